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
        /// Another of the team lead's reports, whose inbox is filled before the timing (`fillInbox`).
        var specialist: String

        init(employees: Int) {
            ceo = SyntheticDirectory.handle(0)
            vp = SyntheticDirectory.handle(1)
            director = SyntheticDirectory.handle(9)
            // The last manager: their reports (8i+1 …) are past the last manager's index, so they lead nobody.
            let lastManager = (employees - 2) / 8
            teamLead = SyntheticDirectory.handle(lastManager)
            individual = SyntheticDirectory.handle(min(employees - 1, lastManager * 8 + 1))
            specialist = SyntheticDirectory.handle(min(employees - 1, lastManager * 8 + 2))
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

    /// Gives `specialist` an inbox as a day's questions leave it, through the API as people would: tagged (by the
    /// admin) on a topic of their own, available, asked four questions by `asker` (the daily budget's worth), three of
    /// them answered and relayed, two of those with a follow-up from the asker and one with the specialist's reply, and
    /// one with the asker's offer to reveal. Nothing is done where the topic already exists.
    static func fillInbox(specialist: String, specialistToken: String, askerToken: String, adminToken: String, base: String) async throws {
        let topic = "bench-inbox"
        // A database copied from one whose inbox was filled (PostgreSQL's, from SQLite's after its run) has it already.
        let existing = try await HTTPClient.shared.execute(request(base + "/v1/topics/\(topic)", as: .token(adminToken)), timeout: .seconds(60))
        _ = try await existing.body.collect(upTo: 1 << 20)
        if existing.status == .ok { return }
        _ = try await call("POST", base + "/v1/topics", token: adminToken, body: #"{"slug":"\#(topic)","name":"Bench inbox"}"#, expecting: 201)
        _ = try await call(
            "PUT", base + "/v1/employees/\(specialist)/skills/\(topic)", token: adminToken, body: #"{"level":5}"#, expecting: 200)
        _ = try await call("PUT", base + "/v1/me/presence", token: specialistToken, body: #"{"status":"available"}"#, expecting: 200)
        struct Asked: Decodable { var id: String }
        var questions: [String] = []
        for number in 1...4 {
            let body = #"{"topic":"\#(topic)","text":"Bench question \#(number): how do we rotate the signing keys?","maxAnswers":1}"#
            let asked = try await call("POST", base + "/v1/questions", token: askerToken, body: body, expecting: 201)
            questions.append(try JSONDecoder().decode(Asked.self, from: asked).id)
        }
        struct Inbox: Decodable {
            struct Item: Decodable { var id: String }
            var items: [Item]
        }
        let inbox = try JSONDecoder().decode(
            Inbox.self, from: try await call("GET", base + "/v1/inbox", token: specialistToken, body: nil, expecting: 200))
        guard inbox.items.count == 4 else {
            throw MatrixAccount.Failure(description: "\(specialist) holds \(inbox.items.count) of the 4 bench questions")
        }
        // Newest first: the inbox's first three are the last three questions.
        for (index, item) in inbox.items.prefix(3).enumerated() {
            let question = questions[3 - index]
            _ = try await call(
                "POST", base + "/v1/inbox/\(item.id)/answer", token: specialistToken, body: #"{"text":"Rotate them one at a time."}"#, expecting: 200)
            if index < 2 {
                _ = try await call(
                    "POST", base + "/v1/questions/\(question)/answers/1/messages", token: askerToken, body: #"{"text":"Which one first?"}"#,
                    expecting: 201)
            }
            if index == 0 {
                _ = try await call(
                    "POST", base + "/v1/inbox/\(item.id)/messages", token: specialistToken, body: #"{"text":"The oldest."}"#, expecting: 201)
                _ = try await call("POST", base + "/v1/questions/\(question)/answers/1/reveal", token: askerToken, body: nil, expecting: 200)
            }
        }
    }

    /// One API call as `token`; its body, once the status is `expecting`.
    static func call(_ method: String, _ url: String, token: String, body: String?, expecting: UInt) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let data = Data(try await response.body.collect(upTo: 1 << 20).readableBytesView)
        guard response.status.code == expecting else {
            throw MatrixAccount.Failure(
                description: "\(method) \(url) answered \(response.status.code), not \(expecting): \(String(decoding: data, as: UTF8.self))")
        }
        return data
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
