//! The user model: what `#[derive(AuthUser)]` generates for an application's own struct.
//!
//! The derive describes the struct as a [`UserSchema`] (which field plays which auth role,
//! which column it lives in, its SQL type) and converts between the struct and rows of
//! [`Value`]s. The runtime renders every SQL statement from that schema once, at start-up,
//! so the generated code stays free of SQL and of database drivers.

use std::fmt;

use time::OffsetDateTime;

/// The auth role a field of the user struct plays.
///
/// Every role maps to a column of FastAuth's `fastauth_users` table. A struct may leave out
/// any role except [`StandardField::Id`] and [`StandardField::Email`] (and
/// [`StandardField::PasswordHash`] when the credentials provider is enabled): the column
/// still exists and the runtime manages it on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StandardField {
    /// The user id, a cuid2 string.
    Id,
    /// The normalised e-mail address.
    Email,
    /// The Argon2 PHC string, or `None` for an account without a password.
    PasswordHash,
    /// The display name.
    Name,
    /// The avatar URL.
    Image,
    /// Whether the address was proven.
    EmailVerified,
    /// Whether the account may sign in.
    Active,
    /// When the account was created.
    CreatedAt,
    /// When the account was last changed.
    UpdatedAt,
}

impl StandardField {
    /// Every standard field, in the order of the columns of `fastauth_users`.
    pub const ALL: [StandardField; 9] = [
        StandardField::Id,
        StandardField::Email,
        StandardField::Name,
        StandardField::Image,
        StandardField::PasswordHash,
        StandardField::EmailVerified,
        StandardField::Active,
        StandardField::CreatedAt,
        StandardField::UpdatedAt,
    ];

    /// The column FastAuth gives this field, used unless the struct names another one.
    pub const fn default_column(self) -> &'static str {
        match self {
            StandardField::Id => "id",
            StandardField::Email => "email",
            StandardField::PasswordHash => "hashed_password",
            StandardField::Name => "name",
            StandardField::Image => "image",
            StandardField::EmailVerified => "email_verified",
            StandardField::Active => "is_active",
            StandardField::CreatedAt => "created_at",
            StandardField::UpdatedAt => "updated_at",
        }
    }

    /// The SQL type of the column.
    pub const fn sql_type(self) -> SqlType {
        match self {
            StandardField::Id
            | StandardField::Email
            | StandardField::PasswordHash
            | StandardField::Name
            | StandardField::Image => SqlType::Text,
            StandardField::EmailVerified | StandardField::Active => SqlType::Bool,
            StandardField::CreatedAt | StandardField::UpdatedAt => SqlType::Timestamp,
        }
    }

    /// Whether the column accepts `NULL`.
    pub const fn nullable(self) -> bool {
        matches!(
            self,
            StandardField::PasswordHash | StandardField::Name | StandardField::Image
        )
    }
}

/// A database-neutral column type. Each dialect renders it to its own type name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlType {
    /// A string of any length.
    Text,
    /// A boolean.
    Bool,
    /// A 16-bit integer.
    SmallInt,
    /// A 32-bit integer.
    Int,
    /// A 64-bit integer.
    BigInt,
    /// A 64-bit float.
    Double,
    /// A point in time, stored in UTC.
    Timestamp,
}

/// One column value, as the runtime moves it between the struct and the database.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// A string.
    Text(String),
    /// A boolean.
    Bool(bool),
    /// Any integer column, widened.
    Int(i64),
    /// A float.
    Double(f64),
    /// A timestamp, in UTC.
    Timestamp(OffsetDateTime),
}

/// A column value whose type does not fit the field it is decoded into.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column `{column}` holds {found}, which does not fit a field of type {expected}")]
pub struct DecodeError {
    /// The column that was read.
    pub column: &'static str,
    /// The Rust type of the field.
    pub expected: &'static str,
    /// What the column held.
    pub found: &'static str,
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Text(_) => "a string",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Double(_) => "a float",
            Value::Timestamp(_) => "a timestamp",
        }
    }

    /// Converts this value into a [`serde_json::Value`] for the public view of a user.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Text(s) => serde_json::Value::String(s.clone()),
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Double(f) => serde_json::Value::from(*f),
            Value::Timestamp(t) => t
                .format(&time::format_description::well_known::Rfc3339)
                .map(serde_json::Value::String)
                .unwrap_or(serde_json::Value::Null),
        }
    }
}

/// A Rust type that can be stored in one column of the users table.
///
/// Implemented for `String`, `bool`, `i16`, `i32`, `i64`, `f64`, `time::OffsetDateTime`
/// and `Option` of each. Implement it for a newtype of the application's own to store that
/// type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no column mapping in fastauth",
    label = "this field type cannot be stored in a column",
    note = "use String, bool, i16, i32, i64, f64, time::OffsetDateTime or an Option of one of \
            them, or implement `fastauth::user::ColumnType` for `{Self}`"
)]
pub trait ColumnType: Sized + Send + Sync + 'static {
    /// The column's type.
    const SQL_TYPE: SqlType;
    /// Whether the column accepts `NULL` (true for `Option<T>`).
    const NULLABLE: bool = false;
    /// The Rust type's name, for error messages.
    const RUST_NAME: &'static str;

    /// Converts the field into a column value.
    fn to_value(&self) -> Value;

    /// Converts a column value into the field; `column` names it in the error.
    fn from_value(value: Value, column: &'static str) -> Result<Self, DecodeError>;
}

fn mismatch<T: ColumnType>(value: &Value, column: &'static str) -> DecodeError {
    DecodeError {
        column,
        expected: T::RUST_NAME,
        found: value.kind(),
    }
}

impl ColumnType for String {
    const SQL_TYPE: SqlType = SqlType::Text;
    const RUST_NAME: &'static str = "String";

    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }

    fn from_value(value: Value, column: &'static str) -> Result<Self, DecodeError> {
        match value {
            Value::Text(s) => Ok(s),
            other => Err(mismatch::<Self>(&other, column)),
        }
    }
}

impl ColumnType for bool {
    const SQL_TYPE: SqlType = SqlType::Bool;
    const RUST_NAME: &'static str = "bool";

    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }

    fn from_value(value: Value, column: &'static str) -> Result<Self, DecodeError> {
        match value {
            Value::Bool(b) => Ok(b),
            // SQLite and MySQL keep booleans as integers.
            Value::Int(i) => Ok(i != 0),
            other => Err(mismatch::<Self>(&other, column)),
        }
    }
}

macro_rules! integer_column {
    ($ty:ty, $sql:expr) => {
        impl ColumnType for $ty {
            const SQL_TYPE: SqlType = $sql;
            const RUST_NAME: &'static str = stringify!($ty);

            fn to_value(&self) -> Value {
                Value::Int(i64::from(*self))
            }

            fn from_value(value: Value, column: &'static str) -> Result<Self, DecodeError> {
                match value {
                    Value::Int(i) => <$ty>::try_from(i).map_err(|_| DecodeError {
                        column,
                        expected: stringify!($ty),
                        found: "an integer out of its range",
                    }),
                    other => Err(mismatch::<Self>(&other, column)),
                }
            }
        }
    };
}

integer_column!(i16, SqlType::SmallInt);
integer_column!(i32, SqlType::Int);
integer_column!(i64, SqlType::BigInt);

impl ColumnType for f64 {
    const SQL_TYPE: SqlType = SqlType::Double;
    const RUST_NAME: &'static str = "f64";

    fn to_value(&self) -> Value {
        Value::Double(*self)
    }

    fn from_value(value: Value, column: &'static str) -> Result<Self, DecodeError> {
        match value {
            Value::Double(f) => Ok(f),
            // Integers widen to floats exactly up to 2^53, far beyond what a column of
            // `f64` written by us holds as an integer.
            Value::Int(i) => Ok(i as f64),
            other => Err(mismatch::<Self>(&other, column)),
        }
    }
}

impl ColumnType for OffsetDateTime {
    const SQL_TYPE: SqlType = SqlType::Timestamp;
    const RUST_NAME: &'static str = "OffsetDateTime";

    fn to_value(&self) -> Value {
        Value::Timestamp(*self)
    }

    fn from_value(value: Value, column: &'static str) -> Result<Self, DecodeError> {
        match value {
            Value::Timestamp(t) => Ok(t),
            other => Err(mismatch::<Self>(&other, column)),
        }
    }
}

impl<T: ColumnType> ColumnType for Option<T> {
    const SQL_TYPE: SqlType = T::SQL_TYPE;
    const NULLABLE: bool = true;
    const RUST_NAME: &'static str = T::RUST_NAME;

    fn to_value(&self) -> Value {
        match self {
            Some(inner) => inner.to_value(),
            None => Value::Null,
        }
    }

    fn from_value(value: Value, column: &'static str) -> Result<Self, DecodeError> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other, column).map(Some),
        }
    }
}

/// One column of the users table as the derive declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnDef {
    /// The Rust field's name.
    pub field: &'static str,
    /// The SQL column's name.
    pub column: &'static str,
    /// The auth role of the field, or `None` for a domain field of the application.
    pub role: Option<StandardField>,
    /// The column's type.
    pub sql_type: SqlType,
    /// Whether the column accepts `NULL`.
    pub nullable: bool,
    /// Whether `POST /auth/register` accepts the field in its body.
    pub register: bool,
}

/// The users table as the derive declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserSchema {
    /// The table's name (`fastauth_users` unless `#[auth(table = "...")]` says otherwise).
    pub table: &'static str,
    /// The struct's fields, in declaration order.
    pub columns: &'static [ColumnDef],
}

impl UserSchema {
    /// The column of a standard field: the struct's own if it maps one, else FastAuth's.
    pub fn column_of(&self, field: StandardField) -> &'static str {
        self.columns
            .iter()
            .find(|c| c.role == Some(field))
            .map_or(field.default_column(), |c| c.column)
    }

    /// The application's own columns: the fields that play no auth role.
    pub fn domain_columns(&self) -> impl Iterator<Item = &'static ColumnDef> + use<> {
        self.columns.iter().filter(|c| c.role.is_none())
    }
}

/// The column values of one user row, in the order of [`UserSchema::columns`].
///
/// The generated `from_row` takes each field out by its index.
#[derive(Debug)]
pub struct RowValues {
    values: Vec<Value>,
    columns: &'static [ColumnDef],
}

impl RowValues {
    /// Wraps values that follow the order of `columns`.
    pub fn new(values: Vec<Value>, columns: &'static [ColumnDef]) -> Self {
        Self { values, columns }
    }

    /// Takes the value at `index` out and converts it into the field's type.
    pub fn take<T: ColumnType>(&mut self, index: usize) -> Result<T, DecodeError> {
        let column = self.columns.get(index).map_or("?", |c| c.column);
        let value = self
            .values
            .get_mut(index)
            .map(|v| std::mem::replace(v, Value::Null))
            .unwrap_or(Value::Null);
        T::from_value(value, column)
    }
}

/// The maximum length of a stored display name, in characters.
pub(crate) const MAX_NAME_CHARS: usize = 256;

/// The maximum length of a stored avatar URL, in characters.
pub(crate) const MAX_IMAGE_CHARS: usize = 2048;

/// The standard values of a user who is being created, from which the generated
/// `new_user` fills the struct's auth fields.
#[derive(Clone)]
pub struct NewUser {
    /// The new id.
    pub id: String,
    /// The normalised address.
    pub email: String,
    /// The PHC string, if the account has a password.
    pub password_hash: Option<String>,
    /// The display name.
    pub name: Option<String>,
    /// The avatar URL.
    pub image: Option<String>,
    /// Whether the address is proven.
    pub email_verified: bool,
    /// Whether the account may sign in.
    pub active: bool,
    /// The creation time, which is also the first update time.
    pub created_at: OffsetDateTime,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("id", &self.id)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl NewUser {
    /// The value of a standard field, converted into the struct's type for it.
    pub fn take<T: ColumnType>(&self, field: StandardField) -> Result<T, DecodeError> {
        let value = match field {
            StandardField::Id => Value::Text(self.id.clone()),
            StandardField::Email => Value::Text(self.email.clone()),
            StandardField::PasswordHash => opt_text(&self.password_hash),
            StandardField::Name => opt_text(&self.name),
            StandardField::Image => opt_text(&self.image),
            StandardField::EmailVerified => Value::Bool(self.email_verified),
            StandardField::Active => Value::Bool(self.active),
            StandardField::CreatedAt | StandardField::UpdatedAt => {
                Value::Timestamp(self.created_at)
            }
        };
        T::from_value(value, field.default_column())
    }
}

fn opt_text(value: &Option<String>) -> Value {
    value.clone().map_or(Value::Null, Value::Text)
}

/// An application's user struct, as `#[derive(AuthUser)]` describes it.
///
/// Implement it through the derive; a hand-written impl must keep [`AuthUser::SCHEMA`],
/// [`AuthUser::to_values`] and [`AuthUser::from_row`] in the same column order.
pub trait AuthUser: Clone + Send + Sync + fmt::Debug + 'static {
    /// The extra fields `POST /auth/register` accepts (the `#[auth(register)]` fields).
    type Register: serde::de::DeserializeOwned + Send + 'static;

    /// The struct's table and columns.
    const SCHEMA: UserSchema;

    /// The user id.
    fn id(&self) -> &str;

    /// The column values of this user, in the order of [`UserSchema::columns`].
    fn to_values(&self) -> Vec<Value>;

    /// Builds the struct from a row whose values follow [`UserSchema::columns`].
    fn from_row(row: RowValues) -> Result<Self, DecodeError>;

    /// Builds a new user from the standard values and the register body's extra fields.
    /// Domain fields that are not `register` fields take their `Default`.
    fn new_user(standard: &NewUser, register: Self::Register) -> Result<Self, DecodeError>;
}

/// Marker traits that check, at compile time, the type of a field given an auth role.
pub mod roles {
    /// Types a field marked `#[auth(id)]`, `#[auth(email)]` may have.
    #[diagnostic::on_unimplemented(
        message = "an `#[auth(id)]` or `#[auth(email)]` field must be a `String`, not `{Self}`",
        label = "change this type to `String`"
    )]
    pub trait RequiredText {}
    impl RequiredText for String {}

    /// Types a field marked `#[auth(password_hash)]`, `#[auth(name)]` or `#[auth(image)]`
    /// may have.
    #[diagnostic::on_unimplemented(
        message = "an `#[auth(password_hash)]`, `#[auth(name)]` or `#[auth(image)]` field \
                   must be an `Option<String>`, not `{Self}`",
        label = "change this type to `Option<String>`"
    )]
    pub trait OptionalText {}
    impl OptionalText for Option<String> {}

    /// Types a field marked `#[auth(email_verified)]` or `#[auth(active)]` may have.
    #[diagnostic::on_unimplemented(
        message = "an `#[auth(email_verified)]` or `#[auth(active)]` field must be a `bool`, \
                   not `{Self}`",
        label = "change this type to `bool`"
    )]
    pub trait Flag {}
    impl Flag for bool {}

    /// Types a field marked `#[auth(created_at)]` or `#[auth(updated_at)]` may have.
    #[diagnostic::on_unimplemented(
        message = "an `#[auth(created_at)]` or `#[auth(updated_at)]` field must be a \
                   `time::OffsetDateTime`, not `{Self}`",
        label = "change this type to `time::OffsetDateTime`"
    )]
    pub trait Timestamp {}
    impl Timestamp for time::OffsetDateTime {}
}
