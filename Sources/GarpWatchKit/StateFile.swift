import FoundationEssentials
import Glibc
import PacketCore

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

    /// The bindings saved in `path`; empty when the file does not exist yet.
    public static func load(_ path: String) throws(Failure) -> [Binding] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "cannot read state file \(path): permission denied or not a regular file")
        }
        let root: [String: Any]
        do {
            guard let object = try JSONDocument.value(from: data) as? [String: Any] else {
                throw Failure(description: "")
            }
            root = object
        } catch {
            throw Failure(
                description: "state file \(path) is not garpwatch JSON (corrupt or another program's file); "
                    + "it was left untouched: move it away or pass another --state path")
        }
        guard root["format"] as? String == format else {
            throw Failure(
                description: "state file \(path) is not a garpwatch state file (no \"format\": \"\(format)\"); "
                    + "it was left untouched: pass another --state path")
        }
        guard root["version"] as? Int == version else {
            throw Failure(description: "state file \(path) has an unsupported version; it was left untouched")
        }
        guard let entries = root["bindings"] as? [[String: Any]] else {
            throw Failure(description: "state file \(path) is corrupt: \"bindings\" is not a list; it was left untouched")
        }
        var bindings: [Binding] = []
        for (number, entry) in entries.enumerated() {
            func bad(_ what: String) -> Failure {
                Failure(description: "state file \(path) is corrupt: binding \(number + 1) \(what); it was left untouched")
            }
            guard let ipText = entry["ip"] as? String, let ip = IPAddress(ipText) else { throw bad("has no valid \"ip\"") }
            guard let ownerText = entry["owner"] as? String, let owner = MACAddress(ownerText) else {
                throw bad("has no valid \"owner\"")
            }
            let vlanIDs = (entry["vlans"] as? [Int] ?? []).map { UInt16(clamping: $0) }
            guard let first = (entry["first_seen"] as? String).flatMap(parseTimestamp),
                let last = (entry["last_seen"] as? String).flatMap(parseTimestamp)
            else { throw bad("has no valid first_seen/last_seen") }
            var claimants: [Claimant] = []
            for item in entry["macs"] as? [[String: Any]] ?? [] {
                guard let mac = (item["mac"] as? String).flatMap({ MACAddress($0) }),
                    let seen = (item["first_seen"] as? String).flatMap(parseTimestamp),
                    let lastSeen = (item["last_seen"] as? String).flatMap(parseTimestamp)
                else { throw bad("has an invalid \"macs\" entry") }
                claimants.append(Claimant(mac: mac, firstSeen: seen, lastSeen: lastSeen, frames: 0, gratuitous: 0))
            }
            let previous = (entry["previous_owner"] as? String).flatMap { MACAddress($0) }
            bindings.append(
                Binding(
                    restoring: BindingKey(vlans: VLANPath(ids: vlanIDs), ip: ip), owner: owner, previousOwner: previous,
                    firstSeen: first, lastSeen: last, claimants: claimants))
        }
        return bindings
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

    /// Write atomically: a temporary file beside `path`, then rename over it.
    public static func save(_ bindings: [Binding], to path: String) throws(Failure) {
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(encode(bindings).utf8)) else {
            throw Failure(description: "cannot write state file \(path): the directory is missing or not writable")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw Failure(description: "cannot replace state file \(path): \(reason)")
        }
    }

    /// `seconds.nanoseconds` as `Timestamp.description` writes it.
    static func parseTimestamp(_ text: String) -> Timestamp? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let seconds = Int64(parts[0]), parts[1].count == 9, let nanos = Int32(parts[1]) else {
            return nil
        }
        return Timestamp(seconds: seconds, nanoseconds: nanos)
    }
}
