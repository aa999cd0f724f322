import Glibc

/// Reads a small input file whole (garpwatch's state file and node map, bgpdecode's expect file), with a size
/// cap, without ever blocking for good: a FIFO or a stalled pipe is read with `read(2)`, and SIGINT/SIGTERM
/// (StopSignal's handlers interrupt system calls) end the wait instead of restarting it.
public enum BoundedFile {
    public enum Outcome: Sendable, Hashable {
        case missing
        case contents([UInt8])
        /// The file (regular) is larger than the limit, or a stream gave more than the limit.
        case tooLarge(Int)
        /// A sentence fragment: why it could not be read.
        case failure(String)
        case interrupted
    }

    /// `path`'s bytes, at most `limit` of them. `requireRegular`: refuse FIFOs, devices and directories (a
    /// state file is renamed over, so it must be a plain file).
    public static func read(_ path: String, limit: Int, requireRegular: Bool) -> Outcome {
        // O_NONBLOCK: opening a FIFO without a writer would block; cleared below for the reads themselves.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            switch errno {
            case ENOENT: return .missing
            case EACCES: return .failure("permission denied (check the file's owner and mode)")
            case EINTR: return .interrupted
            default: return .failure(String(cString: strerror(errno)))
            }
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return .failure(String(cString: strerror(errno))) }
        let kind = status.st_mode & S_IFMT
        if kind == S_IFDIR { return .failure("it is a directory, not a file") }
        if requireRegular && kind != S_IFREG { return .failure("it is not a regular file (a FIFO or a device?)") }
        if kind == S_IFREG && Int(status.st_size) > limit { return .tooLarge(Int(status.st_size)) }
        let flags = fcntl(descriptor, F_GETFL)
        if flags >= 0 { _ = fcntl(descriptor, F_SETFL, flags & ~O_NONBLOCK) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return .contents(bytes) }
            if count < 0 {
                if errno == EINTR {
                    if StopSignal.isRaised { return .interrupted }
                    continue
                }
                return .failure(String(cString: strerror(errno)))
            }
            bytes.append(contentsOf: chunk[..<count])
            if bytes.count > limit { return .tooLarge(bytes.count) }
        }
    }
}
