//! `trading-engine completions SHELL` and `trading-engine man`: what a packager installs
//! beside the binary.
//!
//! Consumes the command-line definition ([`Cli`]); produces a completion script for bash,
//! zsh or fish (clap_complete) on the output, or roff man pages (clap_mangen): the main page
//! on the output, or one page per subcommand into a directory. Never reads the configuration.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, CliError};

/// `completions` arguments.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell to generate the completion script for.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// A shell `completions` supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    /// Bash (install as /usr/share/bash-completion/completions/trading-engine).
    Bash,
    /// Zsh (install as _trading-engine in a directory of $fpath).
    Zsh,
    /// Fish (install as ~/.config/fish/completions/trading-engine.fish).
    Fish,
}

impl CompletionsArgs {
    /// Writes the completion script to `out`.
    ///
    /// # Errors
    /// [`CliError::Output`] when writing fails.
    pub fn run(&self, out: &mut dyn Write) -> Result<(), CliError> {
        let shell = match self.shell {
            CompletionShell::Bash => Shell::Bash,
            CompletionShell::Zsh => Shell::Zsh,
            CompletionShell::Fish => Shell::Fish,
        };
        let mut cmd = Cli::command();
        let mut buf = Vec::with_capacity(64 * 1024);
        clap_complete::generate(shell, &mut cmd, "trading-engine", &mut buf);
        out.write_all(&buf)?;
        Ok(())
    }
}

/// `man` arguments.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write trading-engine.1 and one trading-engine-SUBCOMMAND.1 page per subcommand into
    /// DIR (created when missing) instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

impl ManArgs {
    /// Prints the main man page, or writes every page into `--dir`.
    ///
    /// # Errors
    /// [`CliError::Output`] when writing fails (the message names the file).
    pub fn run(&self, out: &mut dyn Write) -> Result<(), CliError> {
        let cmd = Cli::command();
        let Some(dir) = &self.dir else {
            let mut buf = Vec::with_capacity(16 * 1024);
            clap_mangen::Man::new(cmd).render(&mut buf)?;
            out.write_all(&buf)?;
            return Ok(());
        };
        let named = |path: &PathBuf, e: io::Error| {
            CliError::Output(io::Error::new(e.kind(), format!("{}: {e}", path.display())))
        };
        std::fs::create_dir_all(dir).map_err(|e| named(dir, e))?;
        let mut pages = vec![("trading-engine".to_owned(), cmd.clone())];
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let name = format!("trading-engine-{}", sub.get_name());
            pages.push((
                name.clone(),
                sub.clone().display_name(name.clone()).bin_name(name),
            ));
        }
        for (name, page) in pages {
            let path = dir.join(format!("{name}.1"));
            let mut buf = Vec::with_capacity(16 * 1024);
            clap_mangen::Man::new(page).render(&mut buf)?;
            std::fs::write(&path, buf).map_err(|e| named(&path, e))?;
            writeln!(out, "{}", path.display())?;
        }
        Ok(())
    }
}
