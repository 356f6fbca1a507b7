import Foundation
import Hummingbird
import Logging

/// JSON coding of ``LinkStatus`` shared by the server, `qlink status` and tests.
///
/// Keys are the Swift property names (camel case); non-finite numbers are written as the strings
/// `"NaN"`, `"Infinity"` and `"-Infinity"`.
public enum StatusCoding {
    /// The encoder the server uses.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }

    /// The matching decoder.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return decoder
    }
}

/// The HTTP server of a coordinator or node: `GET /status` (JSON ``LinkStatus``), `GET /history?seconds=N` (JSON
/// ``StatusHistoryReply``: the plotted values of the last N seconds, default 3600, and the latest alert transitions),
/// `GET /metrics` (Prometheus text), `GET /` (the live dashboard page) and `GET /healthz`.
///
/// Run it with ``run(onListening:)`` inside a task (cancel the task to stop it), or add ``application`` to a
/// swift-service-lifecycle `ServiceGroup`.
public struct StatusServer: Sendable {
    /// The host it binds (use 127.0.0.1 unless the dashboard must be reached from elsewhere).
    public let host: String
    /// The port it binds; 0 lets the system choose (see `onListening`).
    public let port: Int
    private let source: any StatusSource
    private let logger: Logger

    public init(host: String, port: Int, source: any StatusSource, logger: Logger) {
        self.host = host
        self.port = port
        self.source = source
        self.logger = logger
    }

    /// The router with every route.
    func router() -> Router<BasicRequestContext> {
        let router = Router()
        let source = self.source
        router.get("/status") { _, _ -> Response in
            let status = await source.currentStatus()
            let body: Data
            do {
                body = try StatusCoding.encoder().encode(status)
            } catch {
                return Self.text(.internalServerError, "cannot encode the status: \(error)\n", type: "text/plain; charset=utf-8")
            }
            return Self.bytes(.ok, body, type: "application/json")
        }
        router.get("/history") { request, _ -> Response in
            let seconds = request.uri.queryParameters.get("seconds").flatMap { Double(String($0)) } ?? 3_600
            do {
                return Self.bytes(.ok, try StatusCoding.encoder().encode(await source.history(seconds: seconds)), type: "application/json")
            } catch {
                return Self.text(.internalServerError, "cannot encode the history: \(error)\n", type: "text/plain; charset=utf-8")
            }
        }
        router.get("/metrics") { _, _ -> Response in
            Self.text(.ok, await source.metricsExposition(), type: LinkMetrics.contentType)
        }
        router.get("/") { _, _ -> Response in
            Self.text(.ok, DashboardPage.html, type: "text/html; charset=utf-8")
        }
        router.get("/dashboard") { _, _ -> Response in
            Self.text(.ok, DashboardPage.html, type: "text/html; charset=utf-8")
        }
        router.get("/healthz") { _, _ -> Response in
            Self.text(.ok, "ok\n", type: "text/plain; charset=utf-8")
        }
        return router
    }

    /// The Hummingbird application; `onListening` receives the bound port.
    public func application(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let logger = self.logger
        return Application(
            router: router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "qlink"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? 0
                logger.info("status.server.listening", metadata: ["status.port": "\(bound)"])
                await onListening(bound)
            },
            logger: logger
        )
    }

    /// Serves until the surrounding task is cancelled.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws(MonitoringError) {
        do {
            try await application(onListening: onListening).run()
        } catch is CancellationError {
            return
        } catch {
            let text = "\(error)"
            if text.contains("Address already in use") {
                throw MonitoringError(.server, "cannot serve status on \(host):\(port): the port is in use by another process",
                                      hint: "choose another port (--status tcp://\(host):PORT, or port 0 for any free one) or stop the process that holds it")
            }
            if text.contains("Cannot assign requested address") {
                throw MonitoringError(.server, "cannot serve status on \(host):\(port): this machine has no such address",
                                      hint: "use 127.0.0.1 or an address of one of this machine's interfaces")
            }
            throw MonitoringError(.server, "the status server on \(host):\(port) stopped: \(text)",
                                  hint: "check that the port is free and the address is local")
        }
    }

    private static func text(_ status: HTTPResponse.Status, _ text: String, type: String) -> Response {
        bytes(status, Data(text.utf8), type: type)
    }

    private static func bytes(_ status: HTTPResponse.Status, _ data: Data, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
