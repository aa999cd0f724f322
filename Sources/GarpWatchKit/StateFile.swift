import FoundationEssentials
import Glibc
import PacketCore
import ToolSupport

/// `--state FILE`: the binding table kept across runs, like arpwatch's arp.dat but JSON.
///
/// ```json
/// {"format": "garpwatch-state", "version": 1, "bindings": [
///   {"ip": "198.51.100.20", "vlans": [100], "owner": "02:76:73:03:00:03", "previous_owner": "02:76:73:03:00:02",
///    "first_seen": "1700000000.000000000", "last_seen": "1700000009.250000000",
///    "macs": [{"mac": "02:76:73:03:00:02", "first_seen": "...", "last_seen": "..."}, ...]}]}
/// ```
/// Written atomically (a temporary file in the same directory, then rename), so a crash never leaves half
/// a file. A file that is not this format is an error and is never overwritten.
public enum StateFile {
    public static let format = "garpwatch-state"
    public static let version = 1

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Largest state file read (64 MiB: 65,536 bindings with a full MAC history take about 40 MiB). A bigger
    /// file is refused with an error rather than read into memory.
    public static let maximumSize = 64 << 20

    /// Earliest and latest time a state file may record (1970 to the end of 9999): anything else is corrupt,
    /// and arithmetic on it would overflow.
    static let timeRange: ClosedRange<Int64> = 0...253_402_300_799

    /// What `load` read.
    public struct Loaded: Sendable {
        public var bindings: [Binding]
        /// Bindings in the file beyond `--max-bindings`, not loaded (and so not written back).
        public var dropped: Int
        /// The latest `last_seen` of the loaded bindings (nil when there are none).
        public var newest: Timestamp?

        public init(bindings: [Binding], dropped: Int, newest: Timestamp?) {
            self.bindings = bindings
            self.dropped = dropped
            self.newest = newest
        }
    }

    /// The bindings saved in `path`; empty when the file does not exist yet. At most `maxBindings` are kept
    /// (the first ones in the file); the others are counted in `dropped`.
    public static func load(_ path: String, maxBindings: Int = .max) throws(Failure) -> Loaded {
        let data: [UInt8]
        switch BoundedFile.read(path, limit: maximumSize, requireRegular: true) {
        case .missing:
            var status = stat()
            if lstat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFLNK {
                throw Failure(
                    description: "state file \(PrintableText.escaped(path)) is a symbolic link to a missing file; "
                        + "create the file it points to or pass the real path")
            }
            return Loaded(bindings: [], dropped: 0, newest: nil)
        case .contents(let bytes): data = bytes
        case .failure(let reason):
            throw Failure(description: "cannot read state file \(PrintableText.escaped(path)): \(reason)")
        case .tooLarge(let size):
            throw Failure(
                description: "state file \(PrintableText.escaped(path)) is \(size >> 20) MiB, more than the "
                    + "\(maximumSize >> 20) MiB garpwatch reads; it was left untouched: move it away or pass another "
                    + "--state path")
        case .interrupted:
            throw Failure(description: "interrupted while reading state file \(PrintableText.escaped(path))")
        }
        let name = PrintableText.escaped(path)
        var reader = StateJSON.Reader(data)
        var format: String?
        var version: Int?
        var bindings: [Binding] = []
        var total = 0
        var newest: Timestamp?
        var sawBindings = false
        do {
            try reader.expect(UInt8(ascii: "{"))
            if reader.peek() == UInt8(ascii: "}") {
                reader.position += 1
            } else {
                while true {
                    guard reader.peek() == UInt8(ascii: "\"") else { throw reader.fail("expected a string key") }
                    let key = try reader.string()
                    try reader.expect(UInt8(ascii: ":"))
                    if key == "bindings" && reader.peek() == UInt8(ascii: "[") {
                        sawBindings = true
                        var number = 0
                        total = try reader.streamArray { entry in
                            number += 1
                            guard bindings.count < maxBindings else { return }
                            let binding = try restore(entry, number: number, path: name)
                            bindings.append(binding)
                            newest = newest.map { max($0, binding.lastSeen) } ?? binding.lastSeen
                        }
                    } else {
                        let value = try reader.value(depth: 1)
                        if key == "format" { format = value.string }
                        if key == "version" { version = value.int }
                    }
                    guard let next = reader.peek() else { throw reader.fail("unexpected end of file") }
                    reader.position += 1
                    if next == UInt8(ascii: "}") { break }
                    guard next == UInt8(ascii: ",") else { throw reader.fail("expected ',' or '}'") }
                }
            }
            guard reader.atEnd() else { throw reader.fail("text after the JSON object") }
        } catch let failure as Failure {
            throw failure
        } catch {
            let offset = (error as? StateJSON.SyntaxError).map { " at byte \($0.offset) (\($0.reason))" } ?? ""
            throw Failure(
                description: "state file \(name) is not garpwatch JSON\(offset) (corrupt or another program's file); "
                    + "it was left untouched: move it away or pass another --state path")
        }
        guard format == Self.format else {
            throw Failure(
                description: "state file \(name) is not a garpwatch state file (no \"format\": \"\(Self.format)\"); "
                    + "it was left untouched: pass another --state path")
        }
        guard version == Self.version else {
            throw Failure(description: "state file \(name) has an unsupported version; it was left untouched")
        }
        guard sawBindings else {
            throw Failure(description: "state file \(name) is corrupt: \"bindings\" is not a list; it was left untouched")
        }
        return Loaded(bindings: bindings, dropped: total - bindings.count, newest: newest)
    }

    /// One entry of the `bindings` list.
    private static func restore(_ entry: StateJSON, number: Int, path: String) throws(Failure) -> Binding {
        func bad(_ what: String) -> Failure {
            Failure(description: "state file \(path) is corrupt: binding \(number) \(what); it was left untouched")
        }
        guard let ip = entry["ip"]?.string.flatMap({ IPAddress($0) }) else { throw bad("has no valid \"ip\"") }
        guard let owner = entry["owner"]?.string.flatMap({ MACAddress($0) }) else { throw bad("has no valid \"owner\"") }
        var vlanIDs: [UInt16] = []
        for item in entry["vlans"]?.array ?? [] {
            guard let id = item.int, (0...4095).contains(id) else { throw bad("has a VLAN ID outside 0-4095") }
            vlanIDs.append(UInt16(id))
        }
        guard vlanIDs.count <= 8 else { throw bad("has more than 8 VLAN tags") }
        guard let first = entry["first_seen"]?.string.flatMap(parseTimestamp),
            let last = entry["last_seen"]?.string.flatMap(parseTimestamp)
        else { throw bad("has no valid first_seen/last_seen (seconds.nanoseconds between 1970 and 9999)") }
        var claimants: [Claimant] = []
        for item in entry["macs"]?.array ?? [] {
            guard let mac = item["mac"]?.string.flatMap({ MACAddress($0) }),
                let seen = item["first_seen"]?.string.flatMap(parseTimestamp),
                let lastSeen = item["last_seen"]?.string.flatMap(parseTimestamp)
            else { throw bad("has an invalid \"macs\" entry") }
            // Only the most recent `historyLimit` matter (see `Binding.init(restoring:...)`); keep the list small.
            if claimants.count < 4 * Binding.historyLimit {
                claimants.append(Claimant(mac: mac, firstSeen: seen, lastSeen: lastSeen, frames: 0, gratuitous: 0))
            }
        }
        let previous = entry["previous_owner"]?.string.flatMap { MACAddress($0) }
        return Binding(
            restoring: BindingKey(vlans: VLANPath(ids: vlanIDs), ip: ip), owner: owner, previousOwner: previous,
            firstSeen: first, lastSeen: last, claimants: claimants)
    }

    /// The JSON text for `bindings` (sorted by address, so the file diffs well).
    public static func encode(_ bindings: [Binding]) -> String {
        var lines: [String] = []
        for binding in bindings.sorted(by: { $0.key < $1.key }) {
            var fields = [
                "\"ip\": \"\(binding.key.ip)\"",
                "\"vlans\": [\(binding.key.vlans.ids.map(String.init).joined(separator: ", "))]",
                "\"owner\": \"\(binding.owner)\"",
            ]
            if let previous = binding.previousOwner { fields.append("\"previous_owner\": \"\(previous)\"") }
            fields.append("\"first_seen\": \"\(binding.firstSeen)\"")
            fields.append("\"last_seen\": \"\(binding.lastSeen)\"")
            let macs = binding.claimants.sorted { $0.firstSeen < $1.firstSeen }.map {
                "{\"mac\": \"\($0.mac)\", \"first_seen\": \"\($0.firstSeen)\", \"last_seen\": \"\($0.lastSeen)\"}"
            }
            fields.append("\"macs\": [\(macs.joined(separator: ", "))]")
            lines.append("  {" + fields.joined(separator: ", ") + "}")
        }
        return "{\"format\": \"\(format)\", \"version\": \(version), \"bindings\": [\n"
            + lines.joined(separator: ",\n") + (lines.isEmpty ? "" : "\n") + "]}\n"
    }

    /// Write atomically: a temporary file beside `path`, then rename over it. A symbolic link is followed, so
    /// the file it points to is replaced and the link stays (a link to a missing file is refused).
    public static func save(_ bindings: [Binding], to path: String) throws(Failure) {
        var target = path
        var status = stat()
        if lstat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFLNK {
            guard let resolved = realpath(path, nil) else {
                throw Failure(
                    description: "state file \(PrintableText.escaped(path)) is a symbolic link to a missing file; "
                        + "create the file it points to or pass the real path")
            }
            target = String(cString: resolved)
            free(resolved)
        }
        let temporary = target + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(encode(bindings).utf8)) else {
            throw Failure(
                description: "cannot write state file \(PrintableText.escaped(path)): the directory is missing or "
                    + "not writable")
        }
        guard rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw Failure(description: "cannot replace state file \(PrintableText.escaped(path)): \(reason)")
        }
    }

    /// `seconds.nanoseconds` as `Timestamp.description` writes it: digits only, nine of them after the point,
    /// the seconds within `timeRange`.
    static func parseTimestamp(_ text: String) -> Timestamp? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...12).contains(parts[0].count), parts[1].count == 9,
            (Array(parts[0].utf8) + Array(parts[1].utf8)).allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let seconds = Int64(parts[0]), timeRange.contains(seconds), let nanos = Int32(parts[1])
        else {
            return nil
        }
        return Timestamp(seconds: seconds, nanoseconds: nanos)
    }
}
