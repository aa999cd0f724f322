import Netlink
import PacketCore
import ToolSupport

/// What addrinspect reports, one case per kind of line: the model (a listing, the monitor, the `has` report) emits
/// these and a sink renders them. A new output format is a new `AddrInspectSink`; a new field goes in `Renderer`'s
/// `fields` (both sinks take it from there), a new `has` field in `VerdictRendering.json`.
public enum AddrInspectEvent {
    /// One object of a listing (`addr`, `link`, `neigh`, `route`).
    case listed(NetlinkObject)
    /// `watch` has read the initial state and is listening.
    case ready(objects: Int, watching: [ObjectKind])
    /// `watch`: an object appeared, changed or went away.
    case change(Change)
    /// `watch`: the kernel dropped notifications (ENOBUFS); the full state is read again.
    case overflow
    /// `watch`: the re-read is done.
    case resynced(changes: Int, objects: Int)
    /// `has`: the verdict on one service IP.
    case verdict(ServiceIPReport)
}

/// Renders events into lines. A sink sees only the event, its time and the interface names it is handed (a
/// `Renderer`); it never reaches into the monitor or the socket that produced the event.
public protocol AddrInspectSink {
    /// The line output begins with, if any (JSON Lines: the `start` object).
    func start(time: Timestamp) -> String?
    /// The line for `event`, or nil when this sink does not show it.
    func line(_ event: AddrInspectEvent, time: Timestamp, names: Renderer) -> String?
}

/// Human text: one line per event (a `has` verdict is its reading, several lines, ending in a newline).
public struct TextSink: AddrInspectSink {
    public init() {}

    public func start(time: Timestamp) -> String? { nil }

    public func line(_ event: AddrInspectEvent, time: Timestamp, names renderer: Renderer) -> String? {
        switch event {
        case .listed(let object):
            return renderer.text(object)
        case .ready(let objects, let watching):
            return "\(time.iso8601) ready: watching " + watching.map(\.rawValue).joined(separator: " ")
                + " (\(objects) objects)"
        case .change(let change):
            var text = "\(time.iso8601) \(change.action.rawValue) \(change.kind.rawValue) "
            switch (change.old, change.new) {
            case (let old?, let new?):
                text += renderer.headline(new) + ": "
                    + renderer.fields(new).differences(from: renderer.fields(old)).joined(separator: ", ")
            case (_, let object?), (let object?, nil):
                text += renderer.text(object)
            case (nil, nil): break
            }
            return text + (change.fromResync ? " (resync)" : "")
        case .overflow:
            return "\(time.iso8601) overflow: the kernel dropped notifications (ENOBUFS); reading the full state again"
        case .resynced(let changes, let objects):
            return "\(time.iso8601) resynced: \(changes) differences, \(objects) objects"
        case .verdict(let report):
            var text = "\(report.ip): \(report.verdict.rawValue)"
            // The reading quotes interface names, which may hold any byte: escaped for the terminal.
            for line in report.reading { text += "\n  " + PrintableText.escaped(line) }
            return text
        }
    }
}

/// JSON Lines (docs/json.md): a `start` object, then one object per event after the common keys.
public struct JSONLinesSink: AddrInspectSink {
    public let envelope: JSONEnvelope

    public init(envelope: JSONEnvelope) { self.envelope = envelope }

    public func start(time: Timestamp) -> String? { envelope.start(tool: "addrinspect", time: time).text }

    public func line(_ event: AddrInspectEvent, time: Timestamp, names renderer: Renderer) -> String? {
        var line: JSONLine
        switch event {
        case .listed(let object):
            return renderer.line(object, envelope: envelope, time: time).text
        case .ready(let objects, let watching):
            line = envelope.object("ready", time: time)
            line.add("objects", objects)
            line.add("watching", list: watching.map(\.rawValue))
        case .change(let change):
            line = envelope.object(
                change.action.rawValue, time: time, interface: (change.new ?? change.old).flatMap(renderer.interface))
            line.add("object", change.kind.rawValue)
            if change.fromResync { line.add("resync", true) }
            line.add("old", change.old.map { renderer.fields($0).json })
            line.add("new", change.new.map { renderer.fields($0).json })
        case .overflow:
            line = envelope.object("overflow", time: time)
        case .resynced(let changes, let objects):
            line = envelope.object("resynced", time: time)
            line.add("changes", changes)
            line.add("objects", objects)
        case .verdict(let report):
            line = envelope.object("verdict", time: time)
            line.append(contentsOf: VerdictRendering.json(report, renderer: renderer))
        }
        return line.text
    }
}

extension ByteWriter {
    /// `event`'s line from `sink`, if it has one.
    public mutating func emit(_ event: AddrInspectEvent, time: Timestamp, names: Renderer, to sink: some AddrInspectSink) {
        if let text = sink.line(event, time: time, names: names) { line(text) }
    }
}
