//! The workloads: for each, one request builder per connection over the seeded data.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use reqwest::header::CONTENT_TYPE;
use reqwest::Client;
use serde_json::json;
use uuid::Uuid;

use crate::load::{NextRequest, Rng};
use crate::seed::{self, Seeded};

/// Everything the workloads need: the server, the seeded data and the sessions.
pub struct Context {
    pub base: String,
    pub seeded: Seeded,
    pub admin_token: String,
    pub applicant_tokens: Vec<String>,
    pub juror_tokens: Vec<String>,
    /// The submitted applications of each applicant.
    by_applicant: Vec<Arc<Vec<Uuid>>>,
    /// The multipart body of the upload workload and its boundary.
    upload_body: bytes::Bytes,
}

pub(crate) const BOUNDARY: &str = "cordee-bench-boundary-7MA4YWxkTrZu0gW";

impl Context {
    /// Builds the context; `upload_kib` is the size of the uploaded PDF.
    pub fn new(
        base: String,
        seeded: Seeded,
        admin_token: String,
        applicant_tokens: Vec<String>,
        juror_tokens: Vec<String>,
        upload_kib: usize,
    ) -> Context {
        let mut by_applicant = vec![Vec::new(); seeded.applicants.len()];
        for (id, owner) in &seeded.submitted {
            by_applicant[*owner].push(*id);
        }
        Context {
            base,
            seeded,
            admin_token,
            applicant_tokens,
            juror_tokens,
            by_applicant: by_applicant.into_iter().map(Arc::new).collect(),
            upload_body: multipart_pdf(upload_kib * 1024),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// `GET /applications/{id}`: each connection reads its applicant's own applications at random.
    pub fn detail(&self, connections: usize) -> Vec<NextRequest> {
        (0..connections)
            .map(|c| {
                let a = c % self.applicant_tokens.len();
                let ids = self.by_applicant[a].clone();
                let token = self.applicant_tokens[a].clone();
                let base = self.url("/applications/");
                let mut rng = Rng::new(c as u64 + 1);
                Box::new(move |client: &Client| {
                    let id = ids[rng.below(ids.len())];
                    Some(client.get(format!("{base}{id}")).bearer_auth(&token))
                }) as NextRequest
            })
            .collect()
    }

    /// `GET /applications?call_id=…&limit=50&cursor=…` by an administrator, at random pages.
    pub fn list(&self, connections: usize) -> Vec<NextRequest> {
        let ids: Arc<Vec<Uuid>> = Arc::new(
            self.seeded
                .submitted
                .iter()
                .map(|(id, _)| *id)
                .take(self.seeded.submitted.len().saturating_sub(50).max(1))
                .collect(),
        );
        (0..connections)
            .map(|c| {
                let ids = ids.clone();
                let token = self.admin_token.clone();
                let base = format!(
                    "{}?call_id={}&limit=50",
                    self.url("/applications"),
                    self.seeded.call_id
                );
                let mut rng = Rng::new(c as u64 + 101);
                Box::new(move |client: &Client| {
                    let after = ids[rng.below(ids.len())];
                    let cursor = cordee::api::extract::encode_cursor(&after);
                    Some(
                        client
                            .get(format!("{base}&cursor={cursor}"))
                            .bearer_auth(&token),
                    )
                }) as NextRequest
            })
            .collect()
    }

    /// `PUT /applications/{id}/reviews/mine`: each connection saves again draft reviews of one juror that no
    /// other connection touches.
    pub fn review(&self, connections: usize) -> Vec<NextRequest> {
        let jurors = self.juror_tokens.len();
        let groups = connections.div_ceil(jurors).max(1);
        (0..connections)
            .map(|c| {
                let (j, g) = (c % jurors, c / jurors);
                let mine: Vec<Uuid> = self
                    .seeded
                    .draft_reviews
                    .iter()
                    .filter(|(_, juror)| *juror == j)
                    .enumerate()
                    .filter(|(i, _)| i % groups == g)
                    .map(|(_, (id, _))| *id)
                    .collect();
                let token = self.juror_tokens[j].clone();
                let base = self.url("/applications/");
                let criteria = self.seeded.criteria.clone();
                let mut n = c * 7919;
                Box::new(move |client: &Client| {
                    if mine.is_empty() {
                        return None;
                    }
                    n += 1;
                    let id = mine[n % mine.len()];
                    let body = json!({
                        "stage": seed::STAGE,
                        "scores": seed::scores_body(&criteria, n),
                        "comment": "Projet intéressant ; le modèle économique reste à préciser.",
                    });
                    Some(
                        client
                            .put(format!("{base}{id}/reviews/mine"))
                            .bearer_auth(&token)
                            .json(&body),
                    )
                }) as NextRequest
            })
            .collect()
    }

    /// `POST /applications/{id}/submit` on complete drafts, each once; stops when they run out.
    pub fn submit(&self, connections: usize) -> Vec<NextRequest> {
        let next = Arc::new(AtomicUsize::new(0));
        let drafts = Arc::new(self.seeded.submit_drafts.clone());
        let tokens = Arc::new(self.applicant_tokens.clone());
        (0..connections)
            .map(|_| {
                let (next, drafts, tokens) = (next.clone(), drafts.clone(), tokens.clone());
                let base = self.url("/applications/");
                Box::new(move |client: &Client| {
                    let (id, owner) = *drafts.get(next.fetch_add(1, Ordering::Relaxed))?;
                    Some(
                        client
                            .post(format!("{base}{id}/submit"))
                            .bearer_auth(&tokens[owner]),
                    )
                }) as NextRequest
            })
            .collect()
    }

    /// How many drafts the submit workload has.
    pub fn submit_pool(&self) -> usize {
        self.seeded.submit_drafts.len()
    }

    /// `POST /applications/{id}/attachments`: a PDF for the pitch deck, to each applicant's upload draft.
    pub fn upload(&self, connections: usize) -> Vec<NextRequest> {
        (0..connections)
            .map(|c| {
                let (id, owner) = self.seeded.upload_drafts[c % self.seeded.upload_drafts.len()];
                let token = self.applicant_tokens[owner].clone();
                let url = self.url(&format!("/applications/{id}/attachments"));
                let body = self.upload_body.clone();
                Box::new(move |client: &Client| {
                    Some(
                        client
                            .post(&url)
                            .bearer_auth(&token)
                            .header(
                                CONTENT_TYPE,
                                format!("multipart/form-data; boundary={BOUNDARY}"),
                            )
                            .body(body.clone()),
                    )
                }) as NextRequest
            })
            .collect()
    }

    /// `POST /auth/login` with the right password, rotating over the applicants and jurors.
    pub fn login(&self, connections: usize) -> Vec<NextRequest> {
        let emails: Arc<Vec<String>> = Arc::new(
            self.seeded
                .applicants
                .iter()
                .chain(&self.seeded.jurors)
                .map(|a| a.email.clone())
                .collect(),
        );
        (0..connections)
            .map(|c| {
                let emails = emails.clone();
                let url = self.url("/auth/login");
                let mut n = c;
                Box::new(move |client: &Client| {
                    n += 1;
                    let body =
                        json!({"email": emails[n % emails.len()], "password": seed::PASSWORD});
                    Some(client.post(&url).json(&body))
                }) as NextRequest
            })
            .collect()
    }

    /// `GET /calls/{id}/ranking?stage=written` by an administrator.
    pub fn ranking(&self) -> impl FnMut(&Client) -> reqwest::RequestBuilder {
        let url = format!(
            "{}?stage={}",
            self.url(&format!("/calls/{}/ranking", self.seeded.call_id)),
            seed::STAGE
        );
        let token = self.admin_token.clone();
        move |client: &Client| client.get(&url).bearer_auth(&token)
    }
}

/// Logs in over HTTP and returns the session token.
pub async fn login(client: &Client, base: &str, email: &str) -> anyhow::Result<String> {
    let response = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": seed::PASSWORD}))
        .send()
        .await?;
    let status = response.status();
    let body: serde_json::Value = response.json().await?;
    anyhow::ensure!(status.is_success(), "login of {email}: {status} {body}");
    body["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("login of {email}: no token in {body}"))
}

/// A multipart body with the parts `field` (the pitch deck) and `file` (a PDF of `size` bytes).
pub(crate) fn multipart_pdf(size: usize) -> bytes::Bytes {
    let mut pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n".to_vec();
    let trailer = b"trailer << /Root 1 0 R >>\n%%EOF\n";
    while pdf.len() + trailer.len() < size {
        let line = b"% padding padding padding padding padding padding padding padding padding\n";
        let room = size - trailer.len() - pdf.len();
        pdf.extend_from_slice(&line[..line.len().min(room)]);
    }
    pdf.extend_from_slice(trailer);
    let mut body = Vec::with_capacity(size + 512);
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\n{}\r\n",
            seed::FILE_FIELD
        )
        .as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"pitch-deck.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(&pdf);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    bytes::Bytes::from(body)
}
