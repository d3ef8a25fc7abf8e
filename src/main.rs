//! The `skyql` binary: parses flags, wires the library together and maps errors to exit codes.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use skyql::cli::args::{Cli, Command, ShellArgs};
use skyql::cli::{docs_cmd, exec, permissions_cmd, sandbox_cmd, shell};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Planning recurses over the expression tree; statements are bounded in operators
        // (sql::parse::MAX_OPERATORS), and this leaves that bound a wide margin.
        .thread_stack_size(16 * 1024 * 1024)
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
            Some(Command::Sandbox(args)) => sandbox_cmd::run(args).await.map(|()| 0),
            Some(Command::Docs(args)) => docs_cmd::run(args),
            Some(Command::Exec(args)) => exec::run(&cli.global, args).await,
            Some(Command::Permissions(args)) => permissions_cmd::run(&cli.global, args).await,
            Some(Command::Shell(args)) => shell::run(&cli.global, args).await,
            // Piped stdin is a script.
            None if !std::io::stdin().is_terminal() => exec::run_piped(&cli.global).await,
            // A terminal gets the shell.
            None => shell::run(&cli.global, &ShellArgs::default()).await,
        }
    });
    // Dropping the runtime here, not at exit, lets a --sandbox endpoint stop cleanly.
    drop(runtime);
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("skyql: error: {}", e.bounded());
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
