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
}
