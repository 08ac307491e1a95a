// `table` and `column` rename the table and the columns, role or domain, and raw
// identifiers lose their `r#`.
use fastauth::AuthUser;

#[derive(AuthUser, Clone, Debug)]
#[auth(table = "members")]
struct Member {
    #[auth(id, column = "member_id")]
    id: String,
    #[auth(email, column = "mail")]
    address: String,
    #[auth(active)]
    enabled: bool,
    #[auth(column = "plan_name")]
    plan: String,
    r#type: Option<i16>,
}

fn main() {
    let schema = Member::SCHEMA;
    assert_eq!(schema.table, "members");
    let columns: Vec<&str> = schema.columns.iter().map(|c| c.column).collect();
    assert_eq!(columns, ["member_id", "mail", "is_active", "plan_name", "type"]);
    assert_eq!(schema.columns[4].field, "type");
}
