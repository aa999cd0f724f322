import CNetlink
import Glibc

/// Every failure of the Netlink wrapper, as one sentence that says what went wrong and what to do. libnl's
/// negative error codes are kept (`code`) so callers can tell a vanished namespace from a permission problem.
public struct NetlinkError: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// libnl's error code (positive NLE_* value) when libnl reported it, else 0.
    public let code: Int32

    public init(_ message: String, code: Int32 = 0) {
        self.message = message
        self.code = code
    }

    public var description: String { message }

    /// A libnl failure (`result` is the negative NLE_* value a libnl call returned) while doing `action`.
    static func libnl(_ result: Int32, while action: String) -> NetlinkError {
        let code = result < 0 ? -result : result
        let reason = nl_geterror(code).map { String(cString: $0) } ?? "error \(code)"
        if code == NLE_PERM {
            return NetlinkError(
                "cannot \(action): \(reason.lowercased()); this needs CAP_NET_ADMIN: run "
                    + "`sudo \(PrivilegeAdvice.thisCommandLine())`.", code: code)
        }
        return NetlinkError("cannot \(action): \(reason.lowercased()).", code: code)
    }

    /// A system call failure (`errno` value `number`) while doing `action`.
    static func system(_ number: Int32, while action: String, hint: String = "") -> NetlinkError {
        let reason = String(cString: strerror(number)).lowercased()
        return NetlinkError("cannot \(action): \(reason)\(hint.isEmpty ? "" : "; " + hint).")
    }
}
