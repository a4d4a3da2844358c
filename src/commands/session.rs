//! `tickring session`: placeholder until the calendars land.

#[derive(Debug, clap::Args)]
pub struct SessionArgs {}

pub fn run(_args: SessionArgs) -> anyhow::Result<()> {
    anyhow::bail!("calendars are not built yet")
}
