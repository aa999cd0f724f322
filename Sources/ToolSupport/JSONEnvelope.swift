import ArgumentParser
import Glibc
import PacketCore

/// The keys every JSON object of every tool starts with (docs/json.md, "Common keys"): `event`, `time`, `host`,
/// then `interface` when the object is tied to one. Key order is part of the schema: event, time, host,
/// interface, then the object's own keys.
///
///     let envelope = JSONEnvelope(host: node.name)
///     var line = envelope.object("takeover", time: packet.timestamp, interface: "eth0")
///     line.add("ip", ip)
public struct JSONEnvelope: Sendable {
    /// The schema version in each tool's `start` object. Within a version keys are only added, never renamed
    /// or removed, and an event keeps its meaning; a rename or removal bumps it.
    public static let schemaVersion = 1

    /// The node name every object carries as `host`.
    public let host: String

    public init(host: String) { self.host = host }

    /// A new object with the common keys. `interface` nil leaves the key out (objects not tied to one).
    public func object(_ event: String, time: Timestamp, interface: String? = nil) -> JSONLine {
        var line = JSONLine()
        line.add("event", event)
        line.add("time", time)
        line.add("host", host)
        line.add("interface", interface)
        return line
    }

    /// Each tool's first object: which tool, which package version, which schema version.
    public func start(tool: String, time: Timestamp, interface: String? = nil) -> JSONLine {
        var line = object("start", time: time, interface: interface)
        line.add("tool", tool)
        line.add("version", VipscopeVersion.string)
        line.add("schema_version", Self.schemaVersion)
        return line
    }
}

/// `--node-name NAME`: the node name every JSON object carries as `host`.
public struct NodeNameOptions: ParsableArguments {
    @Option(name: .customLong("node-name"), help: ArgumentHelp(
        "The node name JSON objects carry as 'host' (default: $NODE_NAME, else the hostname).",
        valueName: "name"))
    public var nodeName: String?

    public init() {}

    /// The flag's value, else `NODE_NAME` (what a Kubernetes downward-API env var is usually called), else
    /// gethostname(2).
    public var resolved: String {
        Self.resolve(flag: nodeName, environment: getenv("NODE_NAME").map { String(cString: $0) })
    }

    public var envelope: JSONEnvelope { JSONEnvelope(host: resolved) }

    public func validate() throws {
        if let nodeName, nodeName.isEmpty { throw ValidationError("--node-name must not be empty.") }
    }

    /// The rule, testable without touching the process environment.
    public static func resolve(flag: String?, environment: String?) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let environment, !environment.isEmpty { return environment }
        return hostname()
    }

    /// gethostname(2), or "localhost" when it fails.
    public static func hostname() -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let result = buffer.withUnsafeMutableBufferPointer { pointer in
            pointer.baseAddress.map { base in
                base.withMemoryRebound(to: CChar.self, capacity: 256) { gethostname($0, 255) }
            } ?? -1
        }
        guard result == 0 else { return "localhost" }
        let bytes = buffer.prefix { $0 != 0 }
        return bytes.isEmpty ? "localhost" : String(decoding: bytes, as: UTF8.self)
    }
}

/// The wall clock as a `Timestamp`: only for live and probe modes, or when no packet was read (captures replay
/// identically because every other time is a packet's).
public enum WallClock {
    public static func now() -> Timestamp {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Timestamp(seconds: Int64(now.tv_sec), nanoseconds: Int32(now.tv_nsec))
    }
}
