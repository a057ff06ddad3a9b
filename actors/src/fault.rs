//! Test-only fault injection. With the `fault-injection` cargo feature, a test arms a fault
//! point and the next actor passing it panics, so supervision can be proven; without the
//! feature `check` is an empty inline function.

/// Where a fault can be injected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultPoint {
    /// The account actor, handing a bot message to the router.
    AccountInbound,
    /// The router, dispatching a message to its session.
    RouterDispatch,
    /// A session, after the model answered and before the reply is stored and sent.
    SessionMidTurn,
    /// An agent, starting a turn.
    AgentRunTurn,
    /// A provider, starting a model call.
    ProviderComplete,
    /// The scheduler, recording the end of a run.
    SchedulerFinish,
}

#[cfg(feature = "fault-injection")]
mod armed {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::FaultPoint;

    /// How many more times a point fires, and the actor id it is limited to (if any).
    pub type Armed = HashMap<FaultPoint, (u32, Option<String>)>;

    pub static ARMED: Mutex<Option<Armed>> = Mutex::new(None);
    pub static FIRED: Mutex<Option<HashMap<FaultPoint, u32>>> = Mutex::new(None);
}

/// Arms `point` to fire `times` times, only for actor `id` if given.
#[cfg(feature = "fault-injection")]
pub fn arm(point: FaultPoint, times: u32, id: Option<&str>) {
    let mut armed = armed::ARMED.lock().unwrap_or_else(|p| p.into_inner());
    armed
        .get_or_insert_with(Default::default)
        .insert(point, (times, id.map(str::to_owned)));
}

/// How many times `point` has fired.
#[cfg(feature = "fault-injection")]
pub fn fired(point: FaultPoint) -> u32 {
    let fired = armed::FIRED.lock().unwrap_or_else(|p| p.into_inner());
    fired
        .as_ref()
        .and_then(|m| m.get(&point).copied())
        .unwrap_or(0)
}

/// Panics if `point` is armed for actor `id`.
#[cfg(feature = "fault-injection")]
pub fn check(point: FaultPoint, id: &str) {
    let fire = {
        let mut armed = armed::ARMED.lock().unwrap_or_else(|p| p.into_inner());
        match armed.get_or_insert_with(Default::default).get_mut(&point) {
            Some((n, filter)) if *n > 0 && filter.as_deref().is_none_or(|f| f == id) => {
                *n -= 1;
                true
            }
            _ => false,
        }
    };
    if fire {
        let mut fired = armed::FIRED.lock().unwrap_or_else(|p| p.into_inner());
        *fired
            .get_or_insert_with(Default::default)
            .entry(point)
            .or_default() += 1;
        panic!("injected fault at {point:?} in {id}");
    }
}

/// Without the `fault-injection` feature nothing is ever injected.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn check(_point: FaultPoint, _id: &str) {}
