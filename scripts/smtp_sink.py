"""Receives mail on loopback with aiosmtpd and prints each message as one JSON line.

Started by the mail tests. The first line on standard output is `listening <port>`. Then
each delivered message follows as one JSON object: the envelope, the headers, and the text
and HTML parts that Python's standard `email` package decoded.
"""

import asyncio
import email
import email.policy
import json
import socket
import sys

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrintingHandler:
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        parts = {}
        for part in message.walk():
            if part.get_content_maintype() == "text":
                parts[part.get_content_type()] = part.get_content()
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": message["From"],
            "to": message["To"],
            "subject": message["Subject"],
            "content_type": message.get_content_type(),
            "text": parts.get("text/plain"),
            "html": parts.get("text/html"),
        }
        print(json.dumps(record), flush=True)
        return "250 Message accepted for delivery"


def main() -> None:
    port = free_port()
    controller = Controller(PrintingHandler(), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"listening {port}", flush=True)
    # Runs until the test closes standard input or kills the process.
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
