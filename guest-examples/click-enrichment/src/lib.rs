//! Click enrichment (broadcast state): page clicks `timestamp_ms,user,page`
//! enriched with the user's tier from a stream of profile updates
//! `timestamp_ms,user,tier`, which is broadcast to every subtask. Each
//! click gets the tier valid at its timestamp, so an update takes effect
//! from its position in the stream on. See README.md for the exact output.
//!
//! ```text
//! --clicks PATH     the clicks
//! --profiles PATH   the profile updates
//! --output DIR      write the enriched clicks under DIR (default: print)
//! ```
//!
//! Output lines: `timestamp_ms,user,page,tier` (`unknown` before the
//! user's first profile).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use wflink_sdk::prelude::*;

/// How far out of order clicks and profile updates may arrive.
const OUT_OF_ORDERNESS: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Click {
    timestamp: i64,
    user: String,
    page: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ProfileUpdate {
    timestamp: i64,
    user: String,
    tier: String,
}

/// Splits `timestamp,a,b`; `None` for a malformed line.
fn fields(line: &str) -> Option<(i64, String, String)> {
    let mut parts = line.trim().split(',');
    let (timestamp, a, b) = (parts.next()?.trim().parse().ok()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || a.is_empty() || b.is_empty() {
        return None;
    }
    Some((timestamp, a.to_owned(), b.to_owned()))
}

/// Every version of every user's profile, by user: (valid from, tier),
/// in timestamp order. Broadcast state: each subtask holds all users.
type Versions = Vec<(i64, String)>;

/// The tier valid at `timestamp`: the latest version from at or before it.
fn tier_at(versions: &Versions, timestamp: i64) -> Option<&str> {
    versions.iter().rev().find(|(from, _)| *from <= timestamp).map(|(_, tier)| tier.as_str())
}

/// Enriches clicks per user. A click waits in keyed state until the
/// watermark passes its timestamp: by then every profile update from
/// before it has arrived, whatever the order the two inputs came in.
struct Enrich {
    profiles: MapStateDescriptor<String, Versions>,
    /// Pages clicked by the current user, by click timestamp.
    pending: MapState<i64, Vec<String>>,
}

impl KeyedBroadcastProcessFunction<Click, ProfileUpdate, String> for Enrich {
    fn process_element(&mut self, click: Click, ctx: &mut ReadOnlyBroadcastContext<'_, String>) -> Result<(), JobError> {
        let mut pages = self.pending.get(&click.timestamp)?.unwrap_or_default();
        pages.push(click.page);
        self.pending.put(&click.timestamp, &pages)?;
        ctx.register_event_time_timer(click.timestamp)?;
        Ok(())
    }

    fn process_broadcast_element(
        &mut self,
        update: ProfileUpdate,
        ctx: &mut BroadcastContext<'_, String>,
    ) -> Result<(), JobError> {
        let mut state = ctx.broadcast_state(&self.profiles);
        let mut versions = state.get(&update.user)?.unwrap_or_default();
        let at = versions.partition_point(|(from, _)| *from <= update.timestamp);
        versions.insert(at, (update.timestamp, update.tier));
        state.put(&update.user, &versions)?;
        Ok(())
    }

    fn on_timer(&mut self, timestamp: i64, ctx: &mut ReadOnlyBroadcastContext<'_, String>) -> Result<(), JobError> {
        let user: String = ctx.current_key()?;
        let Some(pages) = self.pending.get(&timestamp)? else { return Ok(()) };
        self.pending.remove(&timestamp)?;
        let versions = ctx.broadcast_state(&self.profiles).get(&user)?.unwrap_or_default();
        let tier = tier_at(&versions, timestamp).unwrap_or("unknown").to_owned();
        for page in pages {
            ctx.collect(format!("{timestamp},{user},{page},{tier}"));
        }
        Ok(())
    }
}

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    env.set_job_name("click-enrichment");
    let strategy = || WatermarkStrategy::for_bounded_out_of_orderness(OUT_OF_ORDERNESS);
    let clicks = env
        .read_text_file(args.required("clicks")?)
        .flat_map(|line: String, out: &mut Collector<'_, Click>| {
            if let Some((timestamp, user, page)) = fields(&line) {
                out.collect(Click { timestamp, user, page });
            }
        })
        .name("parse-clicks")
        .assign_timestamps_and_watermarks(strategy(), |c: &Click| c.timestamp);
    let updates = env
        .read_text_file(args.required("profiles")?)
        .flat_map(|line: String, out: &mut Collector<'_, ProfileUpdate>| {
            if let Some((timestamp, user, tier)) = fields(&line) {
                out.collect(ProfileUpdate { timestamp, user, tier });
            }
        })
        .name("parse-profiles")
        .assign_timestamps_and_watermarks(strategy(), |p: &ProfileUpdate| p.timestamp);
    let profiles = MapStateDescriptor::<String, Versions>::new("profiles");
    clicks
        .key_by(|c: &Click| c.user.clone())
        .connect(updates.broadcast_state(&profiles))
        .process(Enrich { profiles, pending: MapState::new("pending-clicks") })
        .name("enrich")
        .uid("enrich")
        .print_or_write(args.get("output").map(str::to_owned));
    Ok(())
}

wflink_sdk::export_job!(build);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tier_at_a_time_is_the_latest_version_from_before_it() {
        let versions = vec![(1000, "free".to_string()), (5000, "gold".to_string())];
        assert_eq!(tier_at(&versions, 999), None);
        assert_eq!(tier_at(&versions, 1000), Some("free"));
        assert_eq!(tier_at(&versions, 4999), Some("free"));
        assert_eq!(tier_at(&versions, 5000), Some("gold"));
    }

    #[test]
    fn malformed_lines_are_skipped() {
        assert_eq!(fields("1000,alice,/home"), Some((1000, "alice".into(), "/home".into())));
        assert_eq!(fields("later,alice,/home"), None);
        assert_eq!(fields("1000,alice"), None);
        assert_eq!(fields("1000,alice,/home,extra"), None);
    }
}
