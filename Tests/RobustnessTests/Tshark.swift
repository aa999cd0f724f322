import Foundation
import PacketCore
import Testing

/// tshark as the independent decoder: run once per capture at test time (`-T json --no-duplicate-keys`,
/// so repeated fields become arrays instead of being lost), and helpers to read its nested JSON.
enum Tshark {
    static let executable: String? = ["/usr/bin/tshark", "/usr/local/bin/tshark"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Every frame's `layers` object, in frame order.
    static func frames(_ path: String) throws -> [[String: Any]] {
        guard let executable else { throw TsharkMissing() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-r", path, "-T", "json", "--no-duplicate-keys"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        // A cut-short capture makes tshark exit non-zero after printing what it read: that still counts.
        let json = data.isEmpty ? [] : try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
        return json.compactMap { ($0["_source"] as? [String: Any])?["layers"] as? [String: Any] }
    }

    struct TsharkMissing: Error, CustomStringConvertible {
        var description: String { "tshark is not installed (scripts/setup installs it)" }
    }

    /// A layer or field that may be one object or (repeated) an array of them.
    static func list(_ value: Any?) -> [Any] {
        switch value {
        case let array as [Any]: array
        case nil: []
        case let some?: [some]
        }
    }

    /// Every value of `key` anywhere under `value`, leaves only, arrays flattened (order within an array is
    /// the wire order; across different parents it is not defined).
    static func values(_ key: String, in value: Any?) -> [String] {
        var found: [String] = []
        func walk(_ node: Any?) {
            if let object = node as? [String: Any] {
                for (name, child) in object {
                    if name == key {
                        for leaf in list(child) where !(leaf is [String: Any]) && !(leaf is [Any]) {
                            found.append("\(leaf)")
                        }
                    }
                    if child is [String: Any] || child is [Any] { walk(child) }
                }
            } else if let array = node as? [Any] {
                for child in array { walk(child) }
            }
        }
        walk(value)
        return found
    }

    /// Every object under `value` (itself included) that has all of `keys`.
    static func objects(with keys: [String], in value: Any?) -> [[String: Any]] {
        var found: [[String: Any]] = []
        func walk(_ node: Any?) {
            if let object = node as? [String: Any] {
                if keys.allSatisfy({ object[$0] != nil }) { found.append(object) }
                for child in object.values { walk(child) }
            } else if let array = node as? [Any] {
                for child in array { walk(child) }
            }
        }
        walk(value)
        return found
    }

    /// A value as a string, or the strings of an array.
    static func strings(_ value: Any?) -> [String] { list(value).map { "\($0)" } }

    /// tshark prints addresses its own way: parse and print them ours, so only values are compared.
    static func canonical(_ address: String) -> String {
        IPAddress(address).map { "\($0)" } ?? address
    }
}
