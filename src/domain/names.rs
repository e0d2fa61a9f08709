//! A closed set of names stored as TEXT and shown on the API (a status, a role): one enum per set, its
//! `as_str` and a strict `FromStr` (an unknown name is an error, never a default), declared with
//! [`stored_names!`]. Add the enum to `stored_as_text!` in `db/types.rs` to store it.

/// Declares an enum of stored names: `stored_names! { /// doc  pub enum OutboxStatus("outbox status") {
/// Pending => "pending", ... } }`. Extra attributes (serde, utoipa derives) go before `pub enum`.
macro_rules! stored_names {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident($what:literal) {
            $($(#[$vmeta:meta])* $variant:ident => $text:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every name, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The name in the API and the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            /// The value of its stored name; an unknown name is an error, never a default.
            fn from_str(name: &str) -> Result<Self, Self::Err> {
                match name {
                    $($text => Ok($name::$variant),)*
                    other => Err(format!("unknown {} `{other}`", $what)),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use stored_names;
