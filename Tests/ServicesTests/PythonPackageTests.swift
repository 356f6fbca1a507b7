import Foundation
import QLinkTestSupport
import Testing

/// The `qlink` Python package's own tests (clients/python/tests, pytest) in the venv `scripts/test` makes: `.qtag`
/// files against `qlink simulate`, `qlink tags convert` and `qlink tags info`, damaged files, `/status` decoding.
@Suite("Python package qlink (pytest)")
struct PythonPackageTests {
    static let tool = TestEnvironment.projectRoot.appendingPathComponent(".build/debug/qlink").path

    @Test(.enabled(if: TestEnvironment.qlinkPython != nil, Comment(rawValue: TestEnvironment.qlinkPythonMissing)),
          .enabled(if: FileManager.default.isExecutableFile(atPath: tool), "qlink is not built at .build/debug"))
    func pytestPasses() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outputPath = directory + "/pytest.out"
        let process = try startQLinkPython(["-m", "pytest", "clients/python/tests", "-q", "-rs", "-p", "no:cacheprovider",
                                            "--basetemp", directory + "/pytest"],
                                           outputPath: outputPath, environment: ["QLINK_BIN": Self.tool])
        process.waitUntilExit()
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.contains(" passed"), "\(output)")
        #expect(!output.contains("skipped"), "every Python test must run here: \(output)")
    }
}

/// Starts the venv's Python (``TestEnvironment/qlinkPython``) in the project root with `arguments`, standard output
/// and error going to the file `outputPath` (not a pipe, which a chatty process would fill and block on).
func startQLinkPython(_ arguments: [String], outputPath: String, environment: [String: String] = [:]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try #require(TestEnvironment.qlinkPython))
    process.arguments = arguments
    process.currentDirectoryURL = TestEnvironment.projectRoot
    var processEnvironment = ProcessInfo.processInfo.environment
    processEnvironment["PYTHONDONTWRITEBYTECODE"] = "1"  // no __pycache__ in the source tree
    for (name, value) in environment { processEnvironment[name] = value }
    process.environment = processEnvironment
    FileManager.default.createFile(atPath: outputPath, contents: nil)
    let outputFile = try #require(FileHandle(forWritingAtPath: outputPath))
    defer { try? outputFile.close() }
    process.standardOutput = outputFile
    process.standardError = outputFile
    try process.run()
    return process
}
