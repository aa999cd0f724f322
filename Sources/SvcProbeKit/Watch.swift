import EventLoop
import Glibc
import PacketCore

/// The state-change timeline of `--watch`: probes come in round after round; an event is produced only
/// when a target's state changes (first state, up -> down, down -> up with the outage length, a different
/// outcome or ERR code while down, or a different server answering), which is what timing a failover needs.
public struct WatchTimeline: Sendable {
    public enum Change: String, Sendable, Hashable {
        /// The first probe of a target.
        case initial
        case down
        case up
        /// Same up/down state, but something else answers: another version or backend (connection ids went
        /// back), or while down another outcome or ERR code (1129 host blocked, 1040 too many connections).
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
        /// For `.changed`: what changed, in words (`was refused`, `connection ids went back from 90 to 7`).
        public var reason: String?
    }

    public struct Summary: Sendable, Hashable {
        public var target: String
        public var probes = 0
        public var failedProbes = 0
        public var outages = 0
        public var longestOutage: Int64 = 0
        public var totalOutage: Int64 = 0
        /// Still down when the watch ended: the open outage counts in `outages`, and its length so far in
        /// `longestOutage` and `totalOutage`.
        public var downAtEnd = false
        /// Down from the first probe: that outage began before the watch (its length counts from the first
        /// probe).
        public var downAtStart = false
        /// Rounds in which no probe started because the previous one was still in flight.
        public var skippedRounds = 0
        /// Probes that lingered after their timeout, and of those how many got a late greeting.
        public var lingered = 0
        public var lateGreetings = 0
    }

    struct TargetState: Sendable {
        var isUp: Bool
        var identity: String
        var since: Int64
        var failedInOutage = 0
        var connectionID: UInt32?
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
            summary.downAtStart = !up
            if result.lingering { summary.lingered = 1 }
            states[key] = TargetState(
                isUp: up, identity: identity, since: at, failedInOutage: up ? 0 : 1,
                connectionID: result.greeting?.connectionID, summary: summary)
            order.append(key)
            return Event(change: .initial, target: key, at: at, isUp: up, state: identity)
        }
        state.summary.probes += 1
        if !up { state.summary.failedProbes += 1 }
        if result.lingering { state.summary.lingered += 1 }
        let previousID = state.connectionID
        if let id = result.greeting?.connectionID { state.connectionID = id }
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
            let outage = max(0, at - state.since)
            let failed = state.failedInOutage
            // Counted whether or not the target was up before it: down at the start is an outage too.
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
            guard identity != state.identity else { return nil }
            let was = state.identity
            state.identity = identity
            return Event(change: .changed, target: key, at: at, isUp: false, state: identity, reason: "was \(was)")
        case (true, true):
            if identity != state.identity {
                let was = state.identity
                state.identity = identity
                return Event(change: .changed, target: key, at: at, isUp: true, state: identity, reason: "was \(was)")
            }
            // Connection ids count up per server; going back means another backend (or a restart) answers.
            if let id = result.greeting?.connectionID, let previousID, id < previousID {
                return Event(
                    change: .changed, target: key, at: at, isUp: true, state: identity,
                    reason: "connection ids went back from \(previousID) to \(id): another backend or a restart")
            }
            return nil
        }
    }

    /// A round with no new probe for `target`: the previous one was still in flight.
    public mutating func recordSkippedRound(_ target: ProbeTarget) {
        states[target.description]?.summary.skippedRounds += 1
    }

    /// The final result of a probe that lingered: counted, not a state change (the next probe decides).
    public mutating func recordLate(_ result: ProbeResult) {
        if result.greeting != nil { states[result.target.description]?.summary.lateGreetings += 1 }
    }

    /// Per-target totals, in first-seen order; `now` closes any outage still open.
    public func summaries(now: Int64) -> [Summary] {
        order.compactMap { key in
            guard let state = states[key] else { return nil }
            var summary = state.summary
            if !state.isUp {
                // The outage still open counts like one that ended now: `outages=0` for a target down the
                // whole watch would read as "never down".
                let open = max(0, now.subtractingReportingOverflow(state.since).partialValue)
                summary.downAtEnd = true
                summary.outages += 1
                summary.longestOutage = max(summary.longestOutage, open)
                summary.totalOutage = summary.totalOutage.addingReportingOverflow(open).overflow
                    ? .max : summary.totalOutage + open
            }
            return summary
        }
    }
}

/// `--watch` as a library: the rounds, the probes in flight across rounds, the timeline and the verdict
/// inputs, so the executable only renders (and a metrics exporter can read the same state).
///
/// At most one connection per target is in flight: a round finds the previous probe still open (slow, or
/// lingering after its timeout for a late greeting) and skips that target, counted in `skippedRounds`.
public final class WatchSession {
    public enum Output: Sendable {
        /// A probe's on-time result changed the target's state.
        case event(WatchTimeline.Event, ProbeResult)
        /// The final result of a probe that lingered after its timeout.
        case late(ProbeResult)
    }

    public let targets: [ProbeTarget]
    public let options: ProbeOptions
    public let intervalNanoseconds: Int64
    public let startedAt: Int64
    public private(set) var timeline = WatchTimeline()
    /// Some probe found a target down (not up: anything but a greeting or banner).
    public private(set) var everDown = false
    /// Every on-time result so far, newest last, bounded to the last `recentLimit`.
    public private(set) var recent: [ProbeResult] = []
    public var recentLimit = 1024
    public private(set) var rounds: Int64 = 0
    private let engine: ProbeEngine
    private var nextRound: Int64
    /// Called with every on-time result (the verdict's inputs: version, TLS).
    public var onResult: (ProbeResult) -> Void = { _ in }

    public init(targets: [ProbeTarget], options: ProbeOptions, intervalNanoseconds: Int64, now: Int64 = Monotonic.now()) {
        self.targets = targets
        self.options = options
        self.intervalNanoseconds = max(1, intervalNanoseconds)
        startedAt = now
        nextRound = now
        engine = ProbeEngine(options: options)
    }

    /// Probes still open (in progress or lingering).
    public var inFlight: Int { engine.inFlight }

    /// Start the round that is due (if any), then wait for socket events at most until the next round or
    /// `until` (monotonic ns), whichever comes first. Outputs come in the order they happened.
    public func step(until: Int64, output: (Output) -> Void) {
        let now = Monotonic.now()
        if now >= nextRound {
            startRound(output: output)
            rounds += 1
            // Rounds start on a fixed grid; a round that overran starts the next one at once, and rounds
            // missed entirely (a stopped process) are not made up.
            let elapsed = max(0, now - startedAt)
            let slot = elapsed / intervalNanoseconds + 1
            let (offset, overflow) = slot.multipliedReportingOverflow(by: intervalNanoseconds)
            nextRound = overflow ? .max : later(startedAt, offset)
        }
        let wakeAt = min(until, nextRound)
        if engine.inFlight == 0 {
            Self.sleep(until: wakeAt)
            return
        }
        engine.poll(until: wakeAt) { report in handle(report, output: output) }
    }

    /// After the last round: let the probes in flight finish (each within its own deadline and linger),
    /// unless `shouldStop` says otherwise. Closing them early is what gets a client blocked.
    public func drain(shouldStop: () -> Bool, output: (Output) -> Void) {
        while engine.inFlight > 0 && !shouldStop() {
            engine.poll(until: Monotonic.now() + 50_000_000) { report in handle(report, output: output) }
        }
    }

    public func summaries(now: Int64 = Monotonic.now()) -> [WatchTimeline.Summary] { timeline.summaries(now: now) }

    private func startRound(output: (Output) -> Void) {
        for (index, target) in targets.enumerated() {
            if engine.isInFlight(index) {
                timeline.recordSkippedRound(target)
                continue
            }
            switch SocketAddress.resolve(target) {
            case .success(let address):
                engine.start(index: index, target: target, address: address) { report in handle(report, output: output) }
            case .failure(let error):
                handle(.result(index, ProbeResult.unresolved(target, error)), output: output)
            }
        }
    }

    private func handle(_ report: ProbeReport, output: (Output) -> Void) {
        switch report {
        case .result(_, let result):
            if !result.outcome.isUp { everDown = true }
            recent.append(result)
            if recent.count > recentLimit { recent.removeFirst(recent.count - recentLimit) }
            onResult(result)
            if let event = timeline.record(result) { output(.event(event, result)) }
        case .late(_, let result):
            timeline.recordLate(result)
            output(.late(result))
        }
    }

    static func sleep(until: Int64) { MonotonicClock.sleep(until: until) }
}
