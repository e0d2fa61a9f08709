//! The thread between an applicant and the call's staff: which side wrote a message.

use serde::Serialize;

/// Who wrote a message of an application's thread; the other side is emailed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, diesel::AsExpression, diesel::FromSqlRow,
)]
#[serde(rename_all = "snake_case")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum MessageSide {
    /// A member of the organization that applied.
    Applicant,
    /// The call's team.
    Staff,
}

impl MessageSide {
    /// The side's name in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageSide::Applicant => "applicant",
            MessageSide::Staff => "staff",
        }
    }

    /// The side of an author: the applicant's when they are a member of its organization, otherwise
    /// staff's (who else may write is for [`crate::auth::permissions`] to say).
    pub fn of_author(member_of_applicant: bool) -> MessageSide {
        if member_of_applicant {
            MessageSide::Applicant
        } else {
            MessageSide::Staff
        }
    }
}

impl std::fmt::Display for MessageSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for MessageSide {
    type Err = String;

    /// The side of its stored name; an unknown name is an error, never a default.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        [MessageSide::Applicant, MessageSide::Staff]
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| format!("unknown message side `{name}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_side_is_stored_by_its_name_and_nothing_else_reads_as_one() {
        for side in [MessageSide::Applicant, MessageSide::Staff] {
            assert_eq!(side.as_str().parse::<MessageSide>(), Ok(side));
            assert_eq!(serde_json::to_value(side).unwrap(), side.as_str());
        }
        assert!("jury".parse::<MessageSide>().is_err());
        assert!("Staff".parse::<MessageSide>().is_err());
        assert_eq!(MessageSide::of_author(true), MessageSide::Applicant);
        assert_eq!(MessageSide::of_author(false), MessageSide::Staff);
    }
}
