import EventLoop
import Netlink
import PacketCore
import ToolSupport

/// `watch`: the monitor (source and model) polled through EventLoop, each notification turned into an event for
/// the sink. Output is flushed after every batch, so a change shows at once.
public enum WatchPipeline {
    /// Run until `shouldStop`, the deadline, or `count` changes. The caller opens `monitor` in its namespace.
    /// `metrics` sees every event and the state after each batch (at least every 250 ms); `afterBatch` runs then
    /// too (the metrics file's cadence).
    public static func run(
        monitor: Monitor, watching: [ObjectKind], sink: some AddrInspectSink, deadline: Deadline, count: Int?,
        shouldStop: () -> Bool, into output: inout ByteWriter, metrics: AddrMetrics? = nil, afterBatch: () -> Void = {}
    ) throws(NetlinkError) {
        var reported = 0
        let objects = try monitor.start()
        let readyAt = Monitor.now()
        if let start = sink.start(time: readyAt) { output.line(start) }
        output.emit(.ready(objects: objects, watching: watching), time: readyAt, names: Renderer(names: [:]), to: sink)
        output.flush()
        metrics?.refresh(monitor.state)
        afterBatch()
        while !shouldStop() {
            // A quarter second at most per wait, so Ctrl-C and --duration are noticed promptly.
            let now = MonotonicClock.now()
            if deadline.hasPassed(now: now) { break }
            for event in try monitor.poll(timeoutMilliseconds: deadline.pollTimeout(cap: 250, now: now)) {
                let renderer = Renderer(links: monitor.state.links.values)
                switch event {
                case .change(let change, let time):
                    // A removed link is no longer in the state: name it from its own old value.
                    var renderer = renderer
                    if case .link(let link)? = change.old, renderer.names[link.index] == nil {
                        renderer.names[link.index] = link.name
                    }
                    output.emit(.change(change), time: time, names: renderer, to: sink)
                    metrics?.observe(.change(change))
                    reported += 1
                case .overflow(let time):
                    output.emit(.overflow, time: time, names: renderer, to: sink)
                    metrics?.observe(.overflow)
                case .resynced(let changes, let objects, let time):
                    output.emit(.resynced(changes: changes, objects: objects), time: time, names: renderer, to: sink)
                }
                if let count, reported >= count { break }
            }
            output.flush()
            metrics?.refresh(monitor.state)
            afterBatch()
            if let count, reported >= count { break }
        }
        output.flush()
    }
}
