//! The delivery worker: claims due emails from the outbox, sends them, records the outcome and retries
//! with exponential backoff until the last attempt, after which the email is `failed` (staff can retry);
//! the same for webhook deliveries, and the queueing of due reminders. `jobs::run` is the loop that calls it.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::EmailSettings;
use crate::db::Db;
use crate::store::outbox::{self, OutboxEmail};

use super::reminders;
use super::transport::{OutgoingEmail, SendError, Transport};
use super::webhooks::{self as hooks, Attempt, Outgoing, Sender};
use crate::state::AppState;
use crate::store::webhooks::{self, Claimed, Failure};

/// How many emails one claim reserves.
const BATCH: i64 = 20;

/// Everything the worker needs.
pub struct Worker {
    pub db: Db,
    pub clock: Clock,
    pub settings: EmailSettings,
    pub transport: Transport,
    pub wakeup: Arc<Notify>,
    /// For the scheduled emails (reminders), which render templates and links.
    pub state: actix_web::web::Data<AppState>,
    /// Posts webhook deliveries.
    pub webhooks: Sender,
}

impl Worker {
    /// One delivery pass: a batch of due emails, then a batch of due webhook deliveries. True when either
    /// batch was full, so that the loop runs again at once instead of sleeping.
    pub async fn deliver_pass(&self) -> bool {
        let full_batch = match self.deliver_due().await {
            Ok(n) => n as i64 == self.email_batch(),
            Err(err) => {
                tracing::warn!(error = %err, "outbox: could not claim emails");
                false
            }
        };
        full_batch
            | match self.deliver_webhooks().await {
                Ok(n) => n as i64 == BATCH,
                Err(err) => {
                    tracing::warn!(error = %err, "webhooks: could not claim deliveries");
                    false
                }
            }
    }

    /// Queues the deadline reminders that are due.
    pub async fn queue_reminders(&self) -> Result<usize, crate::error::Error> {
        let now = self.clock.now();
        if !self
            .db
            .read(move |conn| reminders::any_due(conn, now))
            .await?
        {
            return Ok(0);
        }
        let state = self.state.clone();
        self.db
            .write(move |conn| reminders::send_due(conn, &state, now))
            .await
    }

    /// How many emails one claim reserves: emails are sent one after the other, so a batch is only as large
    /// as can be sent within the lease even if every send runs into the SMTP timeout. Otherwise the last
    /// emails of a batch could be claimed by another instance while this one is still sending them, and
    /// go out twice.
    fn email_batch(&self) -> i64 {
        email_batch(
            self.settings.lease_seconds,
            self.settings.smtp_timeout_seconds,
        )
    }

    /// Claims and sends one batch; returns how many emails were claimed.
    pub async fn deliver_due(&self) -> Result<usize, crate::error::Error> {
        let now = self.clock.now();
        let lease = chrono::Duration::seconds(self.settings.lease_seconds.max(1));
        let batch = self.email_batch();
        let claimed = self
            .db
            .write(move |conn| Ok(outbox::claim_due(conn, now, lease, batch)?))
            .await?;
        let count = claimed.len();
        for email in claimed {
            self.deliver(email).await;
        }
        Ok(count)
    }

    /// Claims and posts one batch of webhook deliveries, concurrently; returns how many were claimed.
    pub async fn deliver_webhooks(&self) -> Result<usize, crate::error::Error> {
        let now = self.clock.now();
        let lease = chrono::Duration::seconds(self.settings.lease_seconds.max(1));
        let claimed = self
            .db
            .write(move |conn| Ok(webhooks::claim_due(conn, now, lease, BATCH)?))
            .await?;
        let count = claimed.len();
        futures_util::future::join_all(claimed.into_iter().map(|c| self.deliver_webhook(c))).await;
        Ok(count)
    }

    async fn deliver_webhook(&self, claimed: Claimed) {
        let Claimed {
            delivery,
            url,
            secret,
        } = claimed;
        let outgoing = Outgoing {
            url: &url,
            secret: &secret,
            delivery_id: *delivery.id,
            event_id: *delivery.event_id,
            event_type: &delivery.event_type,
            body: &delivery.payload,
        };
        let attempt = self.webhooks.send(outgoing, self.clock.now()).await;
        let now = self.clock.now();
        let settings = self.state.settings.webhooks.clone();
        let state = self.state.clone();
        let id = *delivery.id;
        let outcome = self
            .db
            .write(move |conn| match attempt {
                Attempt::Delivered { status } => {
                    tracing::info!(delivery_id = %id, event = %delivery.event_type, status, "webhook delivered");
                    Ok(webhooks::mark_delivered(conn, &delivery, i32::from(status), now)?)
                }
                Attempt::Failed { status, error } => {
                    let retry_at =
                        hooks::retry_time(now, delivery.created_at.0, delivery.attempts, &settings);
                    tracing::warn!(delivery_id = %id, attempt = delivery.attempts, %error, will_retry = retry_at.is_some(), "webhook not delivered");
                    let failure = Failure {
                        status_code: status.map(i32::from),
                        error: &error,
                        retry_at,
                    };
                    let disabled = webhooks::mark_failed(
                        conn,
                        &delivery,
                        failure,
                        settings.disable_after_failures,
                        now,
                    )?;
                    if let Some(webhook) = disabled {
                        tracing::warn!(webhook_id = %webhook.id, "webhook disabled after repeated failures");
                        super::admins::webhook_disabled(conn, &state, &webhook, now)?;
                    }
                    Ok(())
                }
            })
            .await;
        if let Err(err) = outcome {
            tracing::error!(delivery_id = %id, error = %err, "could not record the webhook delivery outcome");
        }
    }

    async fn deliver(&self, email: OutboxEmail) {
        let outgoing = OutgoingEmail {
            message_id: email.message_id.clone(),
            to: email.recipient.clone(),
            subject: email.subject.clone(),
            text: email.body_text.clone(),
            html: email.body_html.clone(),
        };
        let result = self.transport.send(&self.settings.from, &outgoing).await;
        let now = self.clock.now();
        let id = *email.id;
        let outcome = match result {
            Ok(()) => {
                tracing::info!(outbox_id = %id, event = %email.event, "email sent");
                self.db
                    .write(move |conn| Ok(outbox::mark_sent(conn, &email, now)?))
                    .await
            }
            Err(err) => {
                let retry_at = match &err {
                    SendError::Permanent(_) => None,
                    SendError::Transient(_) => retry_time(
                        now,
                        email.attempts,
                        email.max_attempts,
                        self.settings.retry_base_ms,
                    ),
                };
                tracing::warn!(outbox_id = %id, attempt = email.attempts, error = %err, will_retry = retry_at.is_some(), "email not sent");
                let message = err.to_string();
                self.db
                    .write(move |conn| {
                        Ok(outbox::mark_attempt_failed(
                            conn, &email, &message, retry_at,
                        )?)
                    })
                    .await
            }
        };
        if let Err(err) = outcome {
            // The lease runs out and another pass picks the email up again.
            tracing::error!(outbox_id = %id, error = %err, "could not record the delivery outcome");
        }
    }
}

/// The emails one claim may reserve: as many as fit in the lease if each send took the whole SMTP timeout
/// (plus a second to record the outcome), at least one and at most `BATCH`.
pub fn email_batch(lease_seconds: i64, smtp_timeout_seconds: u64) -> i64 {
    let per_email = i64::try_from(smtp_timeout_seconds.max(1))
        .unwrap_or(i64::MAX)
        .saturating_add(1);
    (lease_seconds.max(1) / per_email).clamp(1, BATCH)
}

/// When to try again after `attempts` failed attempts: `base * 2^(attempts-1)`, capped at one hour; `None`
/// once the attempts are used up.
pub fn retry_time(
    now: DateTime<Utc>,
    attempts: i32,
    max_attempts: i32,
    base_ms: u64,
) -> Option<DateTime<Utc>> {
    if attempts >= max_attempts {
        return None;
    }
    let exponent = attempts.saturating_sub(1).clamp(0, 20) as u32;
    let delay_ms = base_ms.saturating_mul(1u64 << exponent).min(3_600_000);
    Some(now + chrono::Duration::milliseconds(delay_ms as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_sent_within_its_lease_even_if_every_send_times_out() {
        assert_eq!(email_batch(120, 10), 10);
        assert_eq!(email_batch(5, 2), 1);
        assert_eq!(email_batch(3600, 1), BATCH);
        assert_eq!(email_batch(1, 30), 1);
    }

    #[test]
    fn retries_back_off_exponentially_then_stop() {
        let now = Utc::now();
        let delay =
            |attempts| retry_time(now, attempts, 5, 1000).map(|t| (t - now).num_milliseconds());
        assert_eq!(delay(1), Some(1000));
        assert_eq!(delay(2), Some(2000));
        assert_eq!(delay(4), Some(8000));
        assert_eq!(delay(5), None);
        assert_eq!(
            retry_time(now, 30, 40, 1000).map(|t| (t - now).num_milliseconds()),
            Some(3_600_000)
        );
    }
}
