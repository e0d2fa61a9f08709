//! The machine's floor, measured in the same run as the workloads: what the server serves when it does
//! (almost) nothing. Every workload is then also reported as a fraction of it, so that figures taken on two
//! machines of the same kind can be compared even when one is 40 % slower than the other.
//!
//! - `floor: /health`: `GET /health`, no database, no token; the HTTP stack, the generator and the kernel.
//! - `floor: one-row read`: `GET /api/v1/organizations/{id}` by the organization's owner, the cheapest
//!   authenticated read that exists: the token check (the same token cache as every read), one pool
//!   hand-off and two primary-key lookups of one row each (the caller's membership, then the organization).
//!   `GET /api/v1/me` was the first candidate; it reads the account and two lists (the juries and the staff
//!   seats of the caller: three statements), so it is not the cheapest.

use std::sync::Arc;

use reqwest::Client;
use uuid::Uuid;

use crate::load::NextRequest;
use crate::workloads::Context;

/// The row names of the two floors (the report finds them by these names).
pub const HEALTH: &str = "floor: /health";
pub const ONE_ROW: &str = "floor: one-row read";

/// `GET /health` from every connection.
pub fn health(ctx: &Context, connections: usize) -> Vec<NextRequest> {
    let url = format!("{}/health", ctx.base);
    (0..connections)
        .map(|_| {
            let url = url.clone();
            Box::new(move |client: &Client| Some(client.get(&url))) as NextRequest
        })
        .collect()
}

/// The organizations the one-row read reads: for each applicant, one it owns (from `/me/organizations`).
pub async fn organizations(client: &Client, ctx: &Context) -> anyhow::Result<Vec<Uuid>> {
    let mut ids = Vec::new();
    for token in &ctx.applicant_tokens {
        let response = client
            .get(format!("{}/api/v1/me/organizations?limit=1", ctx.base))
            .bearer_auth(token)
            .send()
            .await?;
        let status = response.status();
        let body: serde_json::Value = response.json().await?;
        anyhow::ensure!(
            status.is_success(),
            "GET /me/organizations: {status} {body}"
        );
        let id = body["items"][0]["id"]
            .as_str()
            .and_then(|id| id.parse::<Uuid>().ok())
            .ok_or_else(|| anyhow::anyhow!("GET /me/organizations: no organization in {body}"))?;
        ids.push(id);
    }
    Ok(ids)
}

/// `GET /api/v1/organizations/{id}`: each connection an applicant reading its own organization (the
/// same row again and again, so that only the cost of one indexed row is measured, not the data's size).
/// `organizations` holds one id per applicant (not empty).
pub fn one_row(ctx: &Context, organizations: &[Uuid], connections: usize) -> Vec<NextRequest> {
    let organizations = Arc::new(organizations.to_vec());
    (0..connections)
        .map(|c| {
            // One organization per applicant, in the applicants' order (see `organizations`).
            let a = c % organizations.len();
            let token = ctx.applicant_tokens[a].clone();
            let url = format!("{}/api/v1/organizations/{}", ctx.base, organizations[a]);
            Box::new(move |client: &Client| Some(client.get(&url).bearer_auth(&token)))
                as NextRequest
        })
        .collect()
}
