//! The life cycles of what the workers deliver: an email of the outbox and a webhook delivery. Both are
//! queued, claimed by one worker (`sending`), then done or given up after their attempts.

use super::names::stored_names;

stored_names! {
    /// Where an email of the outbox stands.
    #[derive(serde::Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum OutboxStatus("outbox status") {
        /// Queued, waiting for its next attempt.
        Pending => "pending",
        /// Claimed by a worker, being sent.
        Sending => "sending",
        /// Accepted by the mail server.
        Sent => "sent",
        /// Given up after its attempts (staff may retry it).
        Failed => "failed",
    }
}

impl OutboxStatus {
    /// Whether staff may put the email back in the queue: not sent, and not in a worker's hands.
    pub fn is_retryable(self) -> bool {
        matches!(self, OutboxStatus::Failed | OutboxStatus::Pending)
    }
}

stored_names! {
    /// Where a delivery of an event to a webhook stands.
    #[derive(serde::Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum DeliveryStatus("webhook delivery status") {
        /// Queued, waiting for its next attempt.
        Pending => "pending",
        /// Claimed by a worker, being posted.
        Sending => "sending",
        /// The receiver answered 2xx.
        Delivered => "delivered",
        /// Given up after a day of attempts.
        Failed => "failed",
    }
}

impl DeliveryStatus {
    /// Whether another attempt is still to come.
    pub fn is_waiting(self) -> bool {
        matches!(self, DeliveryStatus::Pending | DeliveryStatus::Sending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_their_stored_names_and_refuse_any_other() {
        for status in OutboxStatus::ALL {
            assert_eq!(status.as_str().parse::<OutboxStatus>(), Ok(*status));
        }
        for status in DeliveryStatus::ALL {
            assert_eq!(status.as_str().parse::<DeliveryStatus>(), Ok(*status));
        }
        assert!("delivered".parse::<OutboxStatus>().is_err());
        assert!("sent".parse::<DeliveryStatus>().is_err());
        assert!("Pending".parse::<OutboxStatus>().is_err());
    }

    #[test]
    fn only_failed_or_pending_emails_are_retried_and_only_queued_deliveries_wait() {
        let retryable: Vec<_> = OutboxStatus::ALL
            .iter()
            .filter(|s| s.is_retryable())
            .collect();
        assert_eq!(retryable, [&OutboxStatus::Pending, &OutboxStatus::Failed]);
        let waiting: Vec<_> = DeliveryStatus::ALL
            .iter()
            .filter(|s| s.is_waiting())
            .collect();
        assert_eq!(
            waiting,
            [&DeliveryStatus::Pending, &DeliveryStatus::Sending]
        );
    }
}
