/// One version for the whole package: every tool's `--version` prints it.
public enum VipscopeVersion {
    /// Semantic version of the vipscope package. Bump it in one place, here.
    public static let string = "0.1.0"
}
