//! The `skyql` binary: parses flags, wires the library together and maps errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use skyql::cli::args::{Cli, Command};
use skyql::cli::sandbox_cmd;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("skyql: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match &cli.command {
            Some(Command::Sandbox(args)) => sandbox_cmd::run(args).await,
            None => Err(skyql::Error::Usage(
                "no command given: try `skyql sandbox --demo` (see `skyql --help`)".into(),
            )),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("skyql: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
