import Foundation

/// What the machine running the tests offers, for tests that use outside programs and skip without them.
public enum TestEnvironment {
    /// The package's root folder (where `Package.swift` is).
    public static let projectRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The Python virtual environment `scripts/test` makes, with the `qlink` package (clients/python) and pytest.
    public static let pythonVenv = projectRoot.appendingPathComponent(".build/python-venv").path

    /// The venv's interpreter when it can import `qlink` with pyzmq, numpy and pytest; nil otherwise.
    public static let qlinkPython: String? = {
        let python = pythonVenv + "/bin/python"
        return succeeds([python, "-c", "import qlink.qtag, qlink.subscribe, zmq, numpy, pytest"]) ? python : nil
    }()

    /// Why the Python tests skip when ``qlinkPython`` is nil.
    public static let qlinkPythonMissing = "no Python venv with the qlink package at \(pythonVenv): scripts/test makes it when "
        + "python3 and PyPI are available (python3 -m venv .build/python-venv && .build/python-venv/bin/pip install ./clients/python pytest)"

    /// Whether `arguments` (looked up on PATH) runs and exits with status 0; output is discarded.
    public static func succeeds(_ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
