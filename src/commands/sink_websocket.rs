//! `tickring sink websocket`: the websocket pusher and the live chart page, until SIGINT/SIGTERM.

use crate::tuning::Tuning;
use anyhow::{Context, Result};
use tickring_sink_websocket::Server;

#[derive(Debug, clap::Args)]
pub struct SinkWebsocketArgs {
    /// Listen here instead of `websocket.listen` (IP:PORT).
    #[arg(long)]
    listen: Option<String>,
}

pub fn run(tuning: &Tuning, args: SinkWebsocketArgs) -> Result<()> {
    let mut cfg = tuning.websocket.clone();
    if let Some(listen) = args.listen {
        cfg.listen = listen;
    }
    let token = cfg.resolve_token()?;
    let server = Server::start(cfg, tuning.ring.clone(), tuning.journal.clone(), token)
        .with_context(|| format!("starting the websocket pusher on ring '{}'", tuning.ring.name))?;
    println!(
        "websocket: ws://{}/ws   chart page: http://{}/",
        server.local_addr(),
        server.local_addr()
    );
    server.wait_for_signal();
    tracing::info!(stats = ?server.stats(), "shutting down");
    server.shutdown();
    Ok(())
}
