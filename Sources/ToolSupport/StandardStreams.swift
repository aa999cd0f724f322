import Glibc

/// Standard error and output without Foundation (Swift 6 rejects the C global `stderr` as not
/// concurrency-safe). Errors are one sentence that says what to do; never a stack trace.
public enum StandardStreams {
    /// Write `message` and a newline to standard error.
    public static func error(_ message: String) {
        write(message + "\n", to: 2)
    }

    /// Write `text` to standard output as is (no newline added), bypassing `print`'s buffering.
    public static func output(_ text: String) {
        write(text, to: 1)
    }

    static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { ByteWriter.writeAll(UnsafeRawBufferPointer($0), to: descriptor) }
    }
}
