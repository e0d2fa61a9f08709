//! Applications over HTTP: drafts (create, list, read, edit answers) and the life cycle (submit, withdraw,
//! screen). Handlers parse, call the use cases of [`crate::service::applications`] and present the views.

mod drafts;
mod lifecycle;
mod views;

pub use drafts::{
    create, get_one, list, update, ApplicationQuery, CreateApplication, UpdateApplication,
};
pub use lifecycle::{screen, submit, withdraw, Screening, Withdraw};
pub use views::{ApplicationSummary, ApplicationView, AttachmentView, PartnerView, Submitted};
