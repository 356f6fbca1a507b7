#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A read-only memory mapping of a whole file.
///
/// Readers walk through the mapping once and call ``release(upTo:)`` behind them, so the
/// resident memory stays bounded even for files of many gigabytes.
final class MappedFile {
    /// Path the mapping was made from (for error messages).
    let path: String
    /// File size in bytes.
    let count: Int
    /// Start of the mapping (`nil` for an empty file).
    let base: UnsafeRawPointer?
    private var releasedUpTo = 0
    private static let releaseStepBytes = 8 << 20

    /// Maps `path` read-only.
    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw TagFileError(.cannotOpen, file: path, problem: "cannot open file: \(String(cString: strerror(errno)))",
                               hint: "check the path and the permissions")
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw TagFileError(.cannotOpen, file: path, problem: "cannot stat file: \(String(cString: strerror(errno)))")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw TagFileError(.cannotOpen, file: path, problem: "not a regular file", hint: "pass a file, not a directory or device")
        }
        count = Int(status.st_size)
        if count == 0 {
            base = nil
            return
        }
        let mapped = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw TagFileError(.cannotOpen, file: path, problem: "cannot map file: \(String(cString: strerror(errno)))")
        }
        #if os(Linux)
        _ = madvise(mapped, count, MADV_SEQUENTIAL)
        #endif
        base = UnsafeRawPointer(mapped)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// The mapped bytes.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Tells the kernel the pages before `offset` are no longer needed, so they leave the
    /// resident set. Works in steps of a few megabytes to keep the system calls rare.
    func release(upTo offset: Int) {
        guard let base, offset - releasedUpTo >= Self.releaseStepBytes else { return }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let end = (Swift.min(offset, count) / pageSize) * pageSize
        guard end > releasedUpTo else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + releasedUpTo), end - releasedUpTo, MADV_DONTNEED)
        releasedUpTo = end
    }
}

extension UnsafeRawBufferPointer {
    /// Little-endian integer at `offset`; the caller has checked the bounds.
    @inline(__always)
    func le<T: FixedWidthInteger>(_ offset: Int, as type: T.Type) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

/// Writes all of `bytes` to `descriptor`, retrying short writes and interruptions.
func writeFully(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
    guard let base = bytes.baseAddress else { return }
    var done = 0
    while done < bytes.count {
        let result = write(descriptor, base + done, bytes.count - done)
        if result < 0 {
            if errno == EINTR { continue }
            throw TagFileError(.ioFailure, file: path, problem: "write failed: \(String(cString: strerror(errno)))",
                               hint: "check free disk space")
        }
        done += result
    }
}
