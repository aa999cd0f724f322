/// One problem with one input file, said in one sentence that names the file and what is wrong with it.
public struct KubeInputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file as the caller named it (a path, or a label such as `-` for standard input).
    public let file: String
    /// What is wrong, without the file name: "items[2] (default/web): spec.ports[0].port is a string, ...".
    public let problem: String

    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file): \(problem)" }
}
