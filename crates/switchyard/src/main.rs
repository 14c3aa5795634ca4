//! `switchyard`: the command line over the gateway, the simulator and the store.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use switchyard_gateway::price::usd_to_nano;
use switchyard_gateway::{Gateway, Options};
use switchyard_store::{NewKey, NewUser, Store};

mod alloc;

#[global_allocator]
static ALLOC: alloc::MiMalloc = alloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "switchyard",
    version,
    about = "An OpenAI-compatible AI API relay: one key, many providers."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `serve`'s flags, so that plain `switchyard` starts the gateway.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway (the default).
    Serve(ServeArgs),
    /// Run the upstream simulator on its own.
    Sim {
        #[arg(long, env = "SWITCHYARD_SIM_LISTEN", default_value = "127.0.0.1:3001")]
        listen: String,
    },
    /// Manage users.
    User {
        #[command(flatten)]
        db: DbArgs,
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage API keys.
    Key {
        #[command(flatten)]
        db: DbArgs,
        #[command(subcommand)]
        action: KeyAction,
    },
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Where the SQLite database, the master key and other state live.
    #[arg(
        long,
        env = "SWITCHYARD_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…` (default: SQLite in the data dir).
    #[arg(long, env = "SWITCHYARD_DATABASE_URL", global = true)]
    database_url: Option<String>,
}

#[derive(Args, Clone)]
struct ServeArgs {
    #[arg(long, env = "SWITCHYARD_LISTEN", default_value = "127.0.0.1:3000")]
    listen: String,
    #[command(flatten)]
    db: DbArgs,
    /// A TOML file with `[gateway]` settings, `[[channels]]` and `[[prices]]`.
    #[arg(long, env = "SWITCHYARD_CONFIG")]
    config: Option<PathBuf>,
    /// Serve built-in simulated providers, so everything works without provider accounts.
    #[arg(long, env = "SWITCHYARD_DEMO", value_parser = clap::builder::BoolishValueParser::new(), num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    demo: bool,
}

#[derive(Subcommand)]
enum UserAction {
    /// Create a user.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "user")]
        role: String,
        #[arg(long, default_value = "default")]
        group: String,
        /// Starting balance in USD.
        #[arg(long, default_value_t = 0.0)]
        balance_usd: f64,
    },
    /// List users.
    List,
    /// Set a user's console password: from SWITCHYARD_PASSWORD, else the first line of stdin.
    /// Ends the user's console sessions.
    Passwd {
        #[arg(long)]
        name: String,
    },
    /// Add balance (USD; negative to deduct), with a reason kept in the ledger.
    Topup {
        #[arg(long)]
        name: String,
        #[arg(long, allow_negative_numbers = true)]
        usd: f64,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum KeyAction {
    /// Create a key for a user; the key is printed once.
    Create {
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "default")]
        name: String,
        /// Spending limit in USD (default: unlimited).
        #[arg(long)]
        quota_usd: Option<f64>,
        /// Models the key may use (comma-separated; default: all).
        #[arg(long, value_delimiter = ',')]
        models: Vec<String>,
        /// Addresses or CIDR ranges the key may be used from (comma-separated; default: any).
        #[arg(long, value_delimiter = ',')]
        ips: Vec<String>,
    },
    /// List keys (never their secrets).
    List {
        #[arg(long)]
        user: Option<String>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SWITCHYARD_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        match cli.command {
            None => serve(cli.serve).await,
            Some(Command::Serve(args)) => serve(args).await,
            Some(Command::Sim { listen }) => {
                println!("switchyard simulator listening on http://{listen}");
                switchyard_sim::serve(&listen)
                    .await
                    .context("running the simulator")
            }
            Some(Command::User { db, action }) => user(open(&db).await?, action).await,
            Some(Command::Key { db, action }) => key(open(&db).await?, action).await,
        }
    })
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let opts = Options {
        listen: args.listen,
        data_dir: args.db.data_dir,
        database_url: args.db.database_url,
        config: args.config,
        demo: args.demo,
        root_key: std::env::var("SWITCHYARD_ROOT_KEY")
            .ok()
            .filter(|k| !k.is_empty()),
        master_key: std::env::var("SWITCHYARD_MASTER_KEY").ok(),
    };
    let gw = Gateway::build(opts).await?;
    if let Some(pw) = std::env::var("SWITCHYARD_ROOT_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
    {
        set_root_password(&gw.state.store, &pw).await?;
    }
    println!("switchyard listening on http://{}", gw.addr);
    println!("  OpenAI base URL: http://{}/v1", gw.addr);
    println!(
        "  Console: http://{}/ (sign in with an admin's password or API key)",
        gw.addr
    );
    if let Some(k) = &gw.new_root_key {
        println!("  Root API key (shown once; keep it): {k}");
    }
    gw.run(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Make root's console password this one (kept as it is when it already matches, so the
/// sessions of a restart survive).
async fn set_root_password(store: &Store, password: &str) -> anyhow::Result<()> {
    let users = store.users(i64::MAX, 0).await?;
    let root = users
        .iter()
        .find(|u| u.role == "root")
        .context("no root user")?;
    let current = store.password_hash(&root.id).await?;
    if current.is_some_and(|h| switchyard_gateway::session::password_matches(password, &h)) {
        return Ok(());
    }
    let phc = switchyard_gateway::session::hash_password(password)
        .map_err(|e| anyhow::anyhow!("SWITCHYARD_ROOT_PASSWORD: {}", e.message))?;
    store.set_password(&root.id, Some(&phc)).await?;
    Ok(())
}

async fn open(db: &DbArgs) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&db.data_dir)?;
    let url = db
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", db.data_dir.join("switchyard.db").display()));
    Ok(Store::connect(&url).await?)
}

fn usd(v: f64) -> anyhow::Result<i64> {
    usd_to_nano(v.abs())
        .map(|n| if v < 0.0 { -n } else { n })
        .map_err(anyhow::Error::msg)
}

async fn user_named(store: &Store, name: &str) -> anyhow::Result<switchyard_store::User> {
    store
        .user_by_name(name)
        .await?
        .with_context(|| format!("no user named {name:?}"))
}

async fn user(store: Store, action: UserAction) -> anyhow::Result<()> {
    match action {
        UserAction::Create {
            name,
            role,
            group,
            balance_usd,
        } => {
            let new = NewUser {
                name,
                role: Some(role),
                group: Some(group),
                balance_nano: usd(balance_usd)?,
            };
            let u = store.create_user(&new).await?;
            println!("{}", serde_json::to_string_pretty(&u)?);
        }
        UserAction::List => {
            for u in store.users(i64::MAX, 0).await? {
                println!(
                    "{}\t{}\t{}\t{}\t${:.6}",
                    u.id,
                    u.name,
                    u.role,
                    u.group_name,
                    u.balance as f64 / 1e9
                );
            }
        }
        UserAction::Passwd { name } => {
            let u = user_named(&store, &name).await?;
            let password = match std::env::var("SWITCHYARD_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let phc = switchyard_gateway::session::hash_password(&password)
                .map_err(|e| anyhow::anyhow!(e.message))?;
            store.set_password(&u.id, Some(&phc)).await?;
            println!("Password set for {name}; their console sessions have ended.");
        }
        UserAction::Topup {
            name,
            usd: amount,
            reason,
        } => {
            let u = user_named(&store, &name).await?;
            let u = store
                .adjust_balance(&u.id, usd(amount)?, &reason, Some("cli"))
                .await?;
            println!("{} balance: ${:.6}", u.name, u.balance as f64 / 1e9);
        }
    }
    Ok(())
}

async fn key(store: Store, action: KeyAction) -> anyhow::Result<()> {
    match action {
        KeyAction::Create {
            user,
            name,
            quota_usd,
            models,
            ips,
        } => {
            let u = user_named(&store, &user).await?;
            if quota_usd.is_some_and(|q| q < 0.0) {
                bail!("--quota-usd must not be negative");
            }
            let new = NewKey {
                user_id: None,
                name: Some(name),
                quota_nano: quota_usd.map(usd).transpose()?,
                expires_at: None,
                models,
                ip_allow: ips,
            };
            let (k, secret) = store.create_key(&u.id, &new).await?;
            println!("{secret}");
            eprintln!("created key {} for {} (shown once; keep it)", k.id, u.name);
        }
        KeyAction::List { user } => {
            let uid = match user {
                Some(n) => Some(user_named(&store, &n).await?.id),
                None => None,
            };
            for k in store.keys(uid.as_deref()).await? {
                println!("{}\t{}\t{}\t{}", k.id, k.user_id, k.name, k.key_hint);
            }
        }
    }
    Ok(())
}
