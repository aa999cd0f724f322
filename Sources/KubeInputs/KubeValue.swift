import Foundation

/// One JSON or YAML value, typed once at the edge so the decoders never see `Any`: kubectl's JSON (through
/// Foundation's JSONSerialization) and MetalLB's YAML (through Yams) both arrive as this tree.
public indirect enum KubeValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int)
    /// A number with a fraction or an exponent, or an integer too large for `Int`.
    case number(Double)
    case string(String)
    case array([KubeValue])
    case object([String: KubeValue])

    /// How the value's type reads in an error message ("a string", "an object").
    package var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }
}

/// The limits every input is held to, whoever wrote it: a hostile file fails with a sentence, never exhausts
/// memory or the stack.
public struct InputLimits: Sendable {
    /// Largest file read, in bytes. `kubectl get svc -A -o json` on a cluster with 2,000 services is ~15 MiB.
    public var maximumBytes: Int
    /// Deepest nesting of lists and objects (Kubernetes objects nest about 12 deep).
    public var maximumDepth: Int
    /// Most values in one file, counted after YAML aliases would be expanded (they are refused anyway).
    public var maximumValues: Int

    public init(maximumBytes: Int = 64 << 20, maximumDepth: Int = 128, maximumValues: Int = 4_000_000) {
        self.maximumBytes = maximumBytes
        self.maximumDepth = maximumDepth
        self.maximumValues = maximumValues
    }

    public static let standard = InputLimits()
}

/// Reads an input file whole, refusing what is not a regular file, larger than the limit, or not UTF-8.
package enum InputFile {
    package static func read(_ path: String, limits: InputLimits) throws(KubeInputError) -> [UInt8] {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw KubeInputError(file: path, problem: "cannot be read (\(String(cString: strerror(errno)))).")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw KubeInputError(file: path, problem: "is not a regular file.")
        }
        guard status.st_size <= off_t(limits.maximumBytes) else {
            throw KubeInputError(
                file: path, problem: "is \(status.st_size) bytes, more than the \(limits.maximumBytes) this reads.")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw KubeInputError(file: path, problem: "cannot be opened for reading.")
        }
        defer { try? handle.close() }
        // Read one byte past the limit: a file that grew since stat() is still refused.
        let data: Data
        do {
            data = try handle.read(upToCount: limits.maximumBytes + 1) ?? Data()
        } catch {
            throw KubeInputError(file: path, problem: "cannot be read (\(error.localizedDescription)).")
        }
        guard data.count <= limits.maximumBytes else {
            throw KubeInputError(file: path, problem: "is more than the \(limits.maximumBytes) bytes this reads.")
        }
        return [UInt8](data)
    }

    package static func text(_ bytes: [UInt8], file: String) throws(KubeInputError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw KubeInputError(file: file, problem: "is not UTF-8 text.")
        }
        return text
    }
}
