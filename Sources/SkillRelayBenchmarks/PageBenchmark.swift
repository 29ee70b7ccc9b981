import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SkillRelayDomain

/// Figure 8: every page and list on the big company, for the people who see the most of it, each request timed from
/// sending it until its whole body arrived (one at a time, so the time is the server's work plus one local round trip),
/// next to `/livez` measured the same way in the same run.
enum PageBenchmark {
    /// Who makes a request: signed in on the web page (a session cookie), or with an API token.
    enum Credential: Sendable {
        case session(String)
        case token(String)
        case none
    }

    /// One page or list to time.
    struct Case: Sendable {
        var label: String
        var who: String
        var credential: Credential
        var path: String
    }

    struct Row: Sendable {
        var label: String
        var who: String
        var status: UInt
        var times: [Duration]
        var bytes: Int
    }

    /// The people whose pages are timed, in the synthetic company's org (eight reports per manager, employee 0 at the
    /// top): the CEO (an admin, everyone below), a VP (an eighth of the company), a director, and a team lead whose
    /// reports manage nobody.
    struct People: Sendable {
        var ceo: String
        var vp: String
        var director: String
        var teamLead: String
        /// One of the team lead's reports: a person with no one below.
        var individual: String

        init(employees: Int) {
            ceo = SyntheticDirectory.handle(0)
            vp = SyntheticDirectory.handle(1)
            director = SyntheticDirectory.handle(9)
            // The last manager: their reports (8i+1 …) are past the last manager's index, so they lead nobody.
            let lastManager = (employees - 2) / 8
            teamLead = SyntheticDirectory.handle(lastManager)
            individual = SyntheticDirectory.handle(min(employees - 1, lastManager * 8 + 1))
        }
    }

    /// Signs `handle` in through a one-time link, as a person does (`skillrelay login-link`, then the link's form), and
    /// returns the session cookie.
    static func signIn(_ handle: String, binary: String, database: String, base: String) async throws -> String {
        let link = try SkillRelayBenchmarks.output(binary, ["login-link", "--db", database, handle])
        guard let token = URLComponents(string: link)?.queryItems?.first(where: { $0.name == "token" })?.value else {
            throw MatrixAccount.Failure(description: "login-link printed no link for \(handle): \(link)")
        }
        var request = HTTPClientRequest(url: base + "/login")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: "token=\(token)"))
        // The answer is a redirect carrying the cookie: it must not be followed.
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        guard let cookie = response.headers["Set-Cookie"].first?.split(separator: ";").first else {
            throw MatrixAccount.Failure(description: "signing \(handle) in gave no session cookie (HTTP \(response.status.code))")
        }
        return String(cookie)
    }

    /// A GET of `url` as `credential` says.
    static func request(_ url: String, as credential: Credential) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        switch credential {
        case .session(let cookie): request.headers.add(name: "Cookie", value: cookie)
        case .token(let token): request.headers.add(name: "Authorization", value: "Bearer \(token)")
        case .none: break
        }
        return request
    }

    /// Times `repetitions` requests for a case, one after the other, after two untimed ones.
    static func time(_ item: Case, base: String, repetitions: Int) async throws -> Row {
        var times: [Duration] = []
        var bytes = 0
        var status: UInt = 0
        for round in 0..<(repetitions + 2) {
            let request = Self.request(base + item.path, as: item.credential)
            let clock = ContinuousClock()
            let start = clock.now
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(300))
            let body = try await response.body.collect(upTo: 1 << 30)
            let elapsed = clock.now - start
            status = response.status.code
            bytes = body.readableBytes
            if round >= 2 { times.append(elapsed) }
        }
        return Row(label: item.label, who: item.who, status: status, times: times, bytes: bytes)
    }

    /// Follows a list's `next` cursor `pages` times and returns the path of the page reached (a deep page).
    static func deepPage(_ path: String, pages: Int, credential: Credential, base: String) async throws -> String {
        var current = path
        for _ in 0..<pages {
            let response = try await HTTPClient.shared.execute(Self.request(base + current, as: credential), timeout: .seconds(300))
            let body = try await response.body.collect(upTo: 1 << 30)
            struct Page: Decodable { var next: String? }
            guard let next = try JSONDecoder().decode(Page.self, from: Data(body.readableBytesView)).next else { break }
            let separator = path.contains("?") ? "&" : "?"
            current = path + separator + "cursor=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? next)
        }
        return current
    }
}
