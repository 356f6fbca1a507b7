import CZeroMQ

/// Facts about the libzmq the process is linked against.
public enum ZeroMQLibrary {
    /// The library version as `major.minor.patch`.
    public static var version: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }

    /// Whether the library was built with `capability` (`curve`, `ipc`, `gssapi`, `ws`, `draft`…).
    /// Capability names are case-sensitive.
    public static func has(_ capability: String) -> Bool {
        zmq_has(capability) == 1
    }

    /// Whether CurveZMQ (encryption and authentication) is available; QLink requires it.
    public static var hasCurve: Bool { has("curve") }
}
