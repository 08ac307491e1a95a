"""Write the golden table for fastauth's e-mail normalisation from the Python reference.

For each input, validates it as Python FastAuth's request models do (pydantic `EmailStr`, which
calls email-validator with check_deliverability=False) and, when it passes, applies FastAuth's
own canonical form, `str(email).strip().casefold()` (fastauth.core.identity.normalize_email).

Usage:
    email_golden.py OUTPUT_JSON

Writes a JSON list of {"input", "output", "error"}: `output` is the normalised address or null
when validation rejects the input, and `error` is pydantic's message for a rejected input (null
otherwise). Run it with the interpreter that has sreekarnv-fastauth installed; it prints the
versions it used so a change of reference is visible in the diff.
"""

import json
import sys

import email_validator
import pydantic
from pydantic import EmailStr, TypeAdapter

LONG_LABEL = "a" * 63

CASES = [
    # Ordinary addresses, case and surrounding whitespace.
    "user@example.com",
    "  user@example.com  ",
    "\tuser@example.com\t",
    "\u00a0user@example.com\u3000",
    "\x1fuser@example.com\x1c",
    "USER@EXAMPLE.COM",
    "Alice@Example.COM",
    "first.last@example.com",
    "user+tag@example.com",
    "User+Tag+More@Sub.Example.co.uk",
    "a@b.co",
    "x@mail.server.example.org",
    "user_name-1@ex-ample.com",
    "o'brien@example.ie",
    "!#$%&'*+-/=?^_`{|}~@example.com",
    "user@123.com",
    "user@example.c",
    "Info@Example.com",
    # Unicode local parts and full case folding.
    "Straße@Example.com",
    "\u1e9eTRASSE@example.com",
    "\u212aelvin@example.com",
    "\u0130stanbul@example.com",
    "\u0131smail@example.com",
    "\uff35\uff33\uff25\uff32@example.com",
    "o\ufb00ice@example.com",
    "\ufb03@example.com",
    "\u039f\u0394\u039f\u03a3@example.com",
    "\u03bf\u03b4\u03cc\u03c2@example.com",
    "Jos\u00e9@example.com",
    "Jose\u0301@example.com",
    "\u01c5ebel@example.com",
    "\uab70@example.com",
    "\U0001f600@example.com",
    "\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a",
    "\u0434\u0436\u0430\u0432\u0430@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444",
    "\u03b4\u03bf\u03ba\u03b9\u03bc\u03ae@\u03c0\u03b1\u03c1\u03ac\u03b4\u03b5\u03b9\u03b3\u03bc\u03b1.\u03b4\u03bf\u03ba\u03b9\u03bc\u03ae",
    # Unicode and punycode domains.
    "user@m\u00fcnchen.de",
    "user@M\u00dcNCHEN.DE",
    "user@xn--mnchen-3ya.de",
    "user@XN--MNCHEN-3YA.DE",
    "kate@xn--gthub-n4a.com",
    "user@b\u00fccher.example",
    "user@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",
    "user@example\u3002com",
    "user@exa\u0301mple.com",
    "user@\u03cc\u03c3\u03bf\u03c2.gr",
    "user@\u0130stanbul.com",
    "user@\u2603.com",
    "user@xn--n3h.com",
    "user@xn--zz.com",
    "user@xn--ls8h.la",
    # Subdomains and plus addressing.
    "user@a.b.c.d.example.com",
    "user+@example.com",
    "+@example.com",
    # Special-use and reserved domains.
    "a@localhost",
    "a@site.test",
    "a@test",
    "a@sub.site.TEST",
    "a@x.arpa",
    "a@1.in-addr.arpa",
    "a@arpa",
    "a@foo.invalid",
    "a@invalid",
    "a@printer.local",
    "a@local",
    "a@host.localhost",
    "a@abc.onion",
    "a@onion",
    "a@test.com",
    "a@notlocal.com",
    "a@localhost.com",
    # Missing or repeated @-sign.
    "random-text",
    "user.example.com",
    "",
    "   ",
    "@",
    "@@",
    "a@b@c.com",
    "user@@example.com",
    "user\uff20example.com",
    "user\ufe6bexample.com",
    # Empty parts and missing dots.
    "@example.com",
    "user@",
    "user@example",
    "user@com",
    # Dots and hyphens.
    ".user@example.com",
    "user.@example.com",
    "us..er@example.com",
    "user@.example.com",
    "user@example.com.",
    "user@example..com",
    "user@-example.com",
    "user@example-.com",
    "user@ex--ample.com",
    "user@a-b.com",
    "user@ex_ample.com",
    # Lengths.
    "a" * 64 + "@example.com",
    "a" * 65 + "@example.com",
    "a" * 242 + "@example.com",
    "a" * 243 + "@example.com",
    "user@" + LONG_LABEL + ".com",
    "user@" + LONG_LABEL + "a.com",
    "user@" + ".".join([LONG_LABEL] * 4) + ".com",
    "\u00e9" * 121 + "@example.com",
    "a" * 2049,
    # Top-level domains and IP literals.
    "user@example.123",
    "user@192.168.0.1",
    "user@[192.168.0.1]",
    "user@[IPv6:::1]",
    "user@[example.com]",
    # Whitespace, control and format characters inside.
    "us er@example.com",
    "user @example.com",
    "user@exa mple.com",
    "user\x00@example.com",
    "user@exa\x00mple.com",
    "\x00",
    "user\x07@example.com",
    "user\x7f@example.com",
    "user\u200b@example.com",
    "user\u00ad@example.com",
    "user@example.com\u200e",
    "\u0301user@example.com",
    "user\u00a0name@example.com",
    "user@example.com\n",
    "user@example.com\r",
    "user\ue000@example.com",
    # Quoted local parts.
    '"john"@example.com',
    '"john doe"@example.com',
    '"a@b"@example.com',
    '"john".doe@example.com',
    # Display names, which pydantic strips before validating.
    "John Doe <john@example.com>",
    "<John@Example.com>",
    '"Doe, John" <john@example.com>',
    "John <john@example.com",
    "a,b <x@example.com>",
    "Joh.n <John@Example.com>  ",
    "John <>",
]


def normalize(value: str, adapter: TypeAdapter) -> dict:
    """Validate `value` as FastAuth's request models do and return its golden row."""
    try:
        email = adapter.validate_python(value)
    except pydantic.ValidationError as error:
        return {"input": value, "output": None, "error": error.errors()[0]["msg"]}
    return {"input": value, "output": str(email).strip().casefold(), "error": None}


def main(output_path: str) -> None:
    adapter = TypeAdapter(EmailStr)
    rows = [normalize(value, adapter) for value in CASES]
    with open(output_path, "w", encoding="utf-8") as output:
        json.dump(rows, output, ensure_ascii=False, indent=1)
        output.write("\n")
    print(
        f"wrote {len(rows)} rows to {output_path} "
        f"(pydantic {pydantic.VERSION}, email-validator {email_validator.__version__}, "
        f"Python {sys.version.split()[0]})"
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: email_golden.py OUTPUT_JSON")
    main(sys.argv[1])
