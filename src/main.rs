//! The `cordee` command: serve, migrate, create an administrator, load a demo.

use std::io::Read;
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
