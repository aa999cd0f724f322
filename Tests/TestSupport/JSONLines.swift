import Foundation

/// Reading the `--json` output of the tools in tests.
public enum JSONLines {
    public struct NotAnObject: Error, CustomStringConvertible {
        public var description: String
    }

    /// One JSON object per line; a line that is not one throws (a tool's `--json` must never print one).
    public static func objects(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
            guard let dictionary = object as? [String: Any] else {
                throw NotAnObject(description: "not a JSON object: \(line)")
            }
            return dictionary
        }
    }

    /// A tool's `--json` output checked against the common schema (docs/json.md): the first object is
    /// `start` for `tool` with a schema version, every object has `event`, `time` and `host`. Returns the
    /// objects after `start`.
    public static func events(_ text: String, tool: String) throws -> [[String: Any]] {
        let all = try objects(text)
        guard let first = all.first, first["event"] as? String == "start", first["tool"] as? String == tool,
            first["schema_version"] is Int
        else { throw NotAnObject(description: "\(tool) did not start with a start object: \(text.prefix(300))") }
        for object in all where !(object["event"] is String && object["time"] is String && object["host"] is String) {
            throw NotAnObject(description: "missing event, time or host: \(object)")
        }
        return Array(all.dropFirst())
    }
}
