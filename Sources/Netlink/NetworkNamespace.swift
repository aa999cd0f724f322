import CNetlink
import Glibc

/// A named network namespace (`ip netns add NAME` creates `/run/netns/NAME`), entered the way `ip -n NAME` does
/// but without moving the calling thread: work that must happen inside the namespace (opening a netlink socket,
/// reading `/proc/sys/net`) runs on a short-lived thread that joins the namespace with `setns` first.
///
/// Why a thread: `setns(CLONE_NEWNET)` changes only the calling thread, and the caller may be a test runner or an
/// async executor whose other work must stay where it is. A netlink socket belongs for its whole life to the
/// namespace it was created in, so sockets opened inside `perform` keep talking to that namespace afterwards.
public final class NetworkNamespace: Sendable {
    public let name: String
    private let descriptor: Int32

    /// Open `/run/netns/NAME` (or an absolute path to a namespace file such as `/proc/PID/ns/net`).
    public init(named name: String) throws(NetlinkError) {
        if name.isEmpty || (!name.hasPrefix("/") && name.contains("/")) || name == "." || name == ".." {
            throw NetlinkError("'\(name)' is not a namespace name; give a name from 'ip netns list'.")
        }
        let path = name.hasPrefix("/") ? name : "/run/netns/" + name
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            let number = errno
            if number == ENOENT {
                throw NetlinkError("there is no network namespace named '\(name)'; list them with 'ip netns list'.")
            }
            throw NetlinkError.system(number, while: "open the network namespace \(path)",
                                      hint: number == EACCES ? "run as root" : "")
        }
        self.name = name
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Run `body` on a fresh thread that has joined this namespace, wait for it, and return what it returned.
    public func perform<T>(_ body: () throws(NetlinkError) -> T) throws(NetlinkError) -> T {
        var outcome: Result<T, NetlinkError>?
        let descriptor = self.descriptor
        let name = self.name
        // The closure only runs on the helper thread while this thread waits in pthread_join, so it never
        // outlives this call and nothing it touches is used by two threads at once.
        let created: Int32 = withoutActuallyEscaping(body) { body in
            let work = ThreadWork {
                if vipscope_enter_network_namespace(descriptor) != 0 {
                    let number = errno
                    // setns(CLONE_NEWNET) needs CAP_SYS_ADMIN, which scripts/install deliberately does not grant
                    // (it is nearly root); the advice is this very command under sudo.
                    let hint = number == EPERM
                        ? "joining a namespace needs CAP_SYS_ADMIN: run `sudo \(PrivilegeAdvice.thisCommandLine())`"
                        : ""
                    outcome = .failure(
                        NetlinkError.system(number, while: "enter the network namespace \(name)", hint: hint))
                    return
                }
                do throws(NetlinkError) {
                    outcome = .success(try body())
                } catch {
                    outcome = .failure(error)
                }
            }
            let unmanaged = Unmanaged.passRetained(work)
            defer { unmanaged.release() }
            var thread = pthread_t()
            let created = pthread_create(&thread, nil, { argument in
                if let argument { Unmanaged<ThreadWork>.fromOpaque(argument).takeUnretainedValue().work() }
                return nil
            }, unmanaged.toOpaque())
            if created == 0 { pthread_join(thread, nil) }
            return created
        }
        if created != 0 { throw NetlinkError.system(created, while: "start a thread to enter namespace \(name)") }
        guard let outcome else {
            throw NetlinkError("internal error: the thread for namespace \(name) returned nothing.")
        }
        return try outcome.get()
    }
}

/// A closure handed through pthread_create's void pointer. Only the helper thread calls it, while its creator
/// waits in pthread_join, which is why the unchecked Sendable is sound.
private final class ThreadWork: @unchecked Sendable {
    let work: () -> Void
    init(_ work: @escaping () -> Void) { self.work = work }
}

/// Where netlink work happens: the caller's own namespace, or a named one entered on a helper thread.
public enum NamespaceScope: Sendable {
    case current
    case named(NetworkNamespace)

    public init(name: String?) throws(NetlinkError) {
        if let name { self = .named(try NetworkNamespace(named: name)) } else { self = .current }
    }

    public func perform<T>(_ body: () throws(NetlinkError) -> T) throws(NetlinkError) -> T {
        switch self {
        case .current: return try body()
        case .named(let namespace): return try namespace.perform(body)
        }
    }

    public var name: String? {
        switch self {
        case .current: nil
        case .named(let namespace): namespace.name
        }
    }
}

/// The exact command lines that fix a missing privilege: this very invocation under sudo, or a setcap for this
/// executable. Read from /proc/self/exe and the process arguments, so the advice can be pasted as it is.
enum PrivilegeAdvice {
    /// This program's own path; "BINARY" when /proc is not there to ask.
    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = buffer.withUnsafeMutableBufferPointer { buffer -> Int in
            guard let base = buffer.baseAddress else { return -1 }
            return readlink("/proc/self/exe", base, buffer.count - 1)
        }
        guard length > 0 else { return "BINARY" }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The running command line with the executable's full path, each argument quoted for a POSIX shell when needed.
    static func thisCommandLine() -> String {
        ([executablePath()] + CommandLine.arguments.dropFirst()).map(shellQuoted).joined(separator: " ")
    }

    /// `word` as a POSIX shell reads it back: unchanged when it holds only safe characters, else in single quotes.
    static func shellQuoted(_ word: String) -> String {
        let safe = !word.isEmpty && word.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || "-_./:=,@+%".utf8.contains(byte)
        }
        if safe { return word }
        return "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}
