/// The state-change timeline of `--watch`: probes come in round after round; an event is produced only
/// when a target's state changes (first state, up -> down, down -> up with the outage length, or a
/// different server answering), which is what timing a failover needs.
public struct WatchTimeline: Sendable {
    public enum Change: String, Sendable, Hashable {
        /// The first probe of a target.
        case initial
        case down
        case up
        /// Still up, but a different server answered (version changed): a failover to another replica.
        case changed
    }

    public struct Event: Sendable, Hashable {
        public var change: Change
        public var target: String
        /// Monotonic time of the probe that showed the change.
        public var at: Int64
        public var isUp: Bool
        /// The outcome word, with the version when up (`greeting 10.11.19-MariaDB`).
        public var state: String
        /// For `.up`: from the first failed probe to this one. For `.down`: how long it had been up.
        public var duration: Int64?
        /// For `.up`: how many probes failed during the outage.
        public var failedProbes: Int?
    }

    public struct Summary: Sendable, Hashable {
        public var target: String
        public var probes = 0
        public var failedProbes = 0
        public var outages = 0
        public var longestOutage: Int64 = 0
        public var totalOutage: Int64 = 0
        /// Still down when the watch ended: the open outage's length so far is in `totalOutage`.
        public var downAtEnd = false
    }

    struct TargetState: Sendable {
        var isUp: Bool
        var identity: String
        var since: Int64
        var failedInOutage = 0
        var summary: Summary
    }

    private var states: [String: TargetState] = [:]
    private var order: [String] = []

    public init() {}

    static func identity(_ result: ProbeResult) -> String {
        if let greeting = result.greeting { return "greeting \(greeting.version)" }
        if let error = result.error { return "error \(error.code.rawValue) \(error.code.symbol)" }
        return result.outcome.rawValue
    }

    /// Feed one probe; returns the event it causes, if any.
    public mutating func record(_ result: ProbeResult) -> Event? {
        let key = result.target.description
        let up = result.outcome.isUp
        let identity = Self.identity(result)
        let at = result.startedAt
        guard var state = states[key] else {
            var summary = Summary(target: key)
            summary.probes = 1
            if !up { summary.failedProbes = 1 }
            states[key] = TargetState(isUp: up, identity: identity, since: at, failedInOutage: up ? 0 : 1, summary: summary)
            order.append(key)
            return Event(change: .initial, target: key, at: at, isUp: up, state: identity)
        }
        state.summary.probes += 1
        if !up { state.summary.failedProbes += 1 }
        defer { states[key] = state }
        switch (state.isUp, up) {
        case (true, false):
            let upFor = at - state.since
            state.isUp = false
            state.since = at
            state.failedInOutage = 1
            state.identity = identity
            return Event(change: .down, target: key, at: at, isUp: false, state: identity, duration: upFor)
        case (false, true):
            let outage = at - state.since
            let failed = state.failedInOutage
            // An outage is only counted when the target had been up before it (not a slow start).
            state.summary.outages += 1
            state.summary.longestOutage = max(state.summary.longestOutage, outage)
            state.summary.totalOutage += outage
            state.isUp = true
            state.since = at
            state.identity = identity
            state.failedInOutage = 0
            return Event(change: .up, target: key, at: at, isUp: true, state: identity, duration: outage, failedProbes: failed)
        case (false, false):
            state.failedInOutage += 1
            state.identity = identity
            return nil
        case (true, true):
            guard identity != state.identity else { return nil }
            state.identity = identity
            return Event(change: .changed, target: key, at: at, isUp: true, state: identity)
        }
    }

    /// Per-target totals, in first-seen order; `now` closes any outage still open.
    public func summaries(now: Int64) -> [Summary] {
        order.compactMap { key in
            guard let state = states[key] else { return nil }
            var summary = state.summary
            if !state.isUp {
                summary.downAtEnd = true
                summary.totalOutage += now - state.since
            }
            return summary
        }
    }
}
