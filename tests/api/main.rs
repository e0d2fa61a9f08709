//! Black-box HTTP tests: each test starts the real application on a random port with its own database
//! (a temporary SQLite file, or a fresh PostgreSQL database when CORDEE_TEST_DATABASE_URL is set) and a real
//! SMTP server, then talks to it over HTTP and reads the emails that arrive.

mod accounts;
mod appeals;
mod applicant_journey;
mod applications;
mod authorization;
mod backup;
mod call_staff;
mod call_stats;
mod calls;
mod contract;
mod crash;
mod decision_history;
mod deliberation;
mod deliberation_view;
mod editions;
mod email;
mod email_templates;
mod evaluation;
mod expressions_of_interest;
mod faults;
mod finalists;
mod form_rules;
mod hardening;
mod helpers;
mod instances;
mod integrations;
mod journeys;
mod juror_lists;
mod lists;
mod meetings;
mod operations;
mod organizations;
mod pages;
mod personal_data;
mod review_packs;
mod score_sheets;
mod smtp_faults;
mod statements;
mod trust_accounts;
mod trust_edges;
mod trust_evaluation;
mod trust_memberships;
mod trust_personal;
mod trust_races;
