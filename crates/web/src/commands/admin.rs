//! `openslot admin create`: a staff account from the command line.

use std::io::Read;

use clap::Args;
use store::staff::{NewStaff, Role};
use store::{Clock, SystemClock};

use crate::auth::{csrf, password};
use crate::commands::{DatabaseArgs, Failure, block_on, connect};

/// Arguments of `openslot admin create`.
#[derive(Debug, Args)]
pub struct AdminCreateArgs {
    /// The organisation's slug; an organisation with this slug (and name) is created if
    /// there is none.
    #[arg(long, value_name = "SLUG")]
    pub org: String,
    /// The sign-in address, unique in the organisation.
    #[arg(long, value_name = "EMAIL")]
    pub email: String,
    /// The person's name (default: the email's local part).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The role: admin, front_desk or practitioner.
    #[arg(long, default_value = "admin", value_name = "ROLE")]
    pub role: String,
    /// Read the password from standard input instead of generating one.
    #[arg(long)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Creates the account and prints its password when one was generated.
pub(crate) fn create(args: &AdminCreateArgs) -> Result<(), Failure> {
    let role = Role::parse(&args.role).map_err(|e| Failure::BadInput(format!("--role: {e}")))?;
    let email = store::email::normalise_email(&args.email)
        .map_err(|e| Failure::BadInput(format!("--email: {e}")))?;
    let (secret, generated) = if args.password_stdin {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        let text = text.trim_end_matches(['\n', '\r']).to_owned();
        password::check_new(&text, &[&email])
            .map_err(|e| Failure::BadInput(format!("password: {e}")))?;
        (text, false)
    } else {
        (csrf::random_token()[..20].to_owned(), true)
    };
    let hash = password::hash(&secret);
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| email.split('@').next().unwrap_or("admin").to_owned());
    block_on(async {
        let db = connect(&args.database.database_url).await?;
        let mut conn = db.conn().await?;
        let existing = store::organisation::by_slug(conn.exec(), &args.org).await?;
        drop(conn);
        let mut tx = db.begin().await?;
        let org = match existing {
            Some(org) => org,
            None => {
                store::organisation::create(&mut tx, &args.org, &args.org, &SystemClock).await?
            }
        };
        let user = store::staff::create(
            &mut tx,
            org.id,
            &NewStaff {
                email: &email,
                name: &name,
                role,
                practitioner_id: None,
                password_hash: &hash,
            },
            SystemClock.now_ns(),
        )
        .await?;
        store::audit::record(
            &mut tx,
            org.id,
            "system",
            "staff.create",
            "staff",
            Some(user.id),
            serde_json::json!({"email": email, "role": role.as_str()}),
            SystemClock.now_ns(),
        )
        .await?;
        tx.commit().await?;
        db.close().await;
        println!(
            "created {} {} in {:?}",
            role.label().to_lowercase(),
            email,
            org.slug
        );
        if generated {
            println!("password: {secret}");
        }
        Ok(())
    })
}
