import Glibc

/// One JSON or YAML value, typed once at the edge so the decoders never see `Any`: kubectl's JSON (through
/// FoundationEssentials' JSONDecoder, see JSONInput) and MetalLB's YAML (through Yams, in MetalLBInputs) both
/// arrive as this tree.
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
        // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat() then refuses it. No effect on files.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw failure(path) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure(path) }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw KubeInputError(file: path, problem: "is not a regular file.")
        }
        guard status.st_size <= off_t(limits.maximumBytes) else {
            throw KubeInputError(
                file: path, problem: "is \(status.st_size) bytes, more than the \(limits.maximumBytes) this reads.")
        }
        // Read to the end, but never more than one byte past the limit: a file that grew since fstat() is
        // still refused.
        let ceiling = limits.maximumBytes + 1
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(Int(status.st_size) + 1, ceiling))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while bytes.count < ceiling {
            let wanted = min(chunk.count, ceiling - bytes.count)
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, wanted) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure(path)
            }
            bytes.append(contentsOf: chunk[..<count])
        }
        guard bytes.count <= limits.maximumBytes else {
            throw KubeInputError(file: path, problem: "is more than the \(limits.maximumBytes) bytes this reads.")
        }
        return bytes
    }

    /// "cannot be read (No such file or directory).", from errno.
    private static func failure(_ path: String) -> KubeInputError {
        KubeInputError(file: path, problem: "cannot be read (\(String(cString: strerror(errno)))).")
    }

    package static func text(_ bytes: [UInt8], file: String) throws(KubeInputError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw KubeInputError(file: file, problem: "is not UTF-8 text.")
        }
        return text
    }
}
