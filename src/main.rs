//! The `cordee` command: serve, migrate, create an administrator, load a demo, back up and restore.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cordee::config::Settings;
use cordee::startup::Application;

#[derive(Parser)]
#[command(
    name = "cordee",
    version,
    about = "Runs calls for applications end to end"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Create what is needed, apply pending migrations and serve (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Manage administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Load example accounts and organizations, printing their credentials.
    Demo,
    /// Write a consistent copy of the SQLite database and of the attachment files it references to one
    /// archive (gzip-compressed tar), while the server runs. On PostgreSQL use pg_dump for the database.
    Backup {
        /// The archive to write, e.g. cordee-2026-01-31.tar.gz.
        file: PathBuf,
        /// Archive only the attachment files the database references (either database; pair it with a
        /// pg_dump taken just before on PostgreSQL).
        #[arg(long)]
        attachments_only: bool,
        /// Replace the archive if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Restore an archive of `cordee backup` where the settings say, checking every checksum. Stop the
    /// server first.
    Restore {
        /// The archive written by `cordee backup`.
        file: PathBuf,
        /// Replace an existing database and the files of the storage folder.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an administrator (or make an existing account one), reading the password from stdin.
    Create {
        #[arg(long)]
        email: String,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[arg(long, default_value = "Administrateur")]
        display_name: String,
    },
}

fn main() -> ExitCode {
    cordee::memory::tune_allocator();
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(err) => return fail(format!("invalid settings: {err}")),
    };
    cordee::telemetry::init(&settings.log);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => cordee::cli::migrate(&settings),
        Command::Admin {
            command:
                AdminCommand::Create {
                    email,
                    password_stdin: _,
                    display_name,
                },
        } => {
            let mut password = String::new();
            match std::io::stdin().read_to_string(&mut password) {
                Ok(_) => cordee::cli::create_admin(
                    &settings,
                    &email,
                    password.trim_end_matches(['\n', '\r']),
                    &display_name,
                ),
                Err(err) => Err(anyhow::anyhow!(
                    "cannot read the password from stdin: {err}"
                )),
            }
        }
        Command::Demo => cordee::cli::demo(&settings),
        Command::Backup {
            file,
            attachments_only,
            force,
        } => cordee::cli::backup(&settings, &file, attachments_only, force),
        Command::Restore { file, force } => cordee::cli::restore(&settings, &file, force),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(format!("{err:#}")),
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let app = Application::build(settings).await?;
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn fail(message: String) -> ExitCode {
    let one_line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    eprintln!("cordee: {one_line}");
    ExitCode::FAILURE
}
