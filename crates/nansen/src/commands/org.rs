//! `nansen org`, `nansen user` and `nansen token`: who works in Nansen.

use super::Ctx;
use crate::output::Outcome;
use clap::Subcommand;
use nansen_model::Role;
use std::io::{IsTerminal, Read};

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Add an organisation.
    Add {
        /// Its short name, in the ORG/SLUG names of what it owns: lower-case letters, digits, - and _
        slug: String,
        /// A name people read
        #[arg(long)]
        name: String,
        /// The state it speaks for, when it is a state's administration (a country code or name): it receives that state's matches in programmes it is a receiving partner of
        #[arg(long)]
        country: Option<String>,
    },
}

impl OrgCommand {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        let OrgCommand::Add {
            slug,
            name,
            country,
        } = self;
        ctx.app
            .add_org_of(ctx.who, &slug, &name, country.as_deref())?;
        eprintln!("added organisation {slug}");
        Ok(())
    }
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user (or a membership of an existing user). The password is the first line of
    /// stdin when stdin is not a terminal; otherwise one is generated and printed.
    Add {
        /// The person's e-mail address, which is also how they sign in
        email: String,
        /// The organisation (its short name)
        #[arg(long)]
        org: String,
        /// What the person may do in the organisation
        #[arg(long, value_parser = ["admin", "editor", "analyst", "viewer", "caseworker", "protection"])]
        role: String,
        /// A caseworker or admin who approves the stages that need it and may refer a case
        /// without consent, with a reason
        #[arg(long)]
        supervisor: bool,
        /// Also make the user a platform operator (adds organisations and members of any).
        #[arg(long)]
        operator: bool,
    },
}

impl UserCommand {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        let UserCommand::Add {
            email,
            org,
            role,
            supervisor,
            operator,
        } = self;
        let role: Role = role.parse().map_err(crate::output::said)?;
        let stdin = std::io::stdin();
        let (password, generated) = if stdin.is_terminal() {
            (nansen_app::generate_password(), true)
        } else {
            let mut line = String::new();
            stdin.lock().read_to_string(&mut line)?;
            let first = line.lines().next().unwrap_or("");
            (first.trim_end_matches('\r').to_string(), false)
        };
        ctx.app
            .add_user_as(ctx.who, &email, &org, (role, supervisor), &password)?;
        if operator {
            ctx.app.set_operator(ctx.who, &email, true)?;
        }
        if generated {
            writeln!(ctx.out, "{password}")?;
        }
        let supervising = if supervisor { " and a supervisor" } else { "" };
        eprintln!("{email} is {role}{supervising} of {org}");
        Ok(())
    }
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create an API token; prints only the token.
    Create {
        /// The person's e-mail address, which is also how they sign in
        email: String,
        /// A name people read
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

impl TokenCommand {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        let TokenCommand::Create { email, name } = self;
        let token = ctx.app.create_token(ctx.who, &email, &name)?;
        writeln!(ctx.out, "{token}")?;
        Ok(())
    }
}
