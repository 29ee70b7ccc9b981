"""The web page in a real browser: headless Chromium (Debian's package) driven through chromedriver by selenium,
against a real `skillrelay serve` process on a temporary database with the embedded `local` IM.

Run by Scripts/browser-test, which builds the binary and sets SKILLRELAY_BIN. Screenshots of each page go to
SKILLRELAY_ARTIFACTS (default .web-test/artifacts).
"""

import os
import re
import shutil
import json
import subprocess
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("SKILLRELAY_BIN", str(ROOT / ".build" / "debug" / "skillrelay"))
ARTIFACTS = Path(os.environ.get("SKILLRELAY_ARTIFACTS", ROOT / ".web-test" / "artifacts"))
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", shutil.which("chromedriver") or "/usr/bin/chromedriver")
WAIT = 20


def free_port():
    # Below the ephemeral range, which outgoing connections take their ports from (see the script).
    return int(subprocess.check_output([str(ROOT / "Scripts" / "free-port")], text=True))


class SkillRelayInABrowser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        cls.tmp = tempfile.mkdtemp(prefix="skillrelay-web-")
        cls.db = os.path.join(cls.tmp, "skillrelay.sqlite")
        cls.port = free_port()
        cls.base = f"http://127.0.0.1:{cls.port}"
        cls.log = open(os.path.join(cls.tmp, "serve.log"), "w")
        # Every candidate's presence is checked on each wave (the sample company has 65 people under infrastructure;
        # the default pool is the best 50). The learned routing draws its order at random, so with the default pool
        # whether the one specialist a test made available is checked in the first wave would be chance; a later
        # wave would reach them, minutes later.
        config = os.path.join(cls.tmp, "settings.json")
        with open(config, "w") as file:
            json.dump({"presencePoolSize": 200}, file)
        cls.server = subprocess.Popen(
            [BIN, "serve", "--db", cls.db, "--port", str(cls.port), "--data", str(ROOT / "Data"), "--config", config],
            stdout=subprocess.PIPE, stderr=cls.log, text=True, cwd=cls.tmp)
        cls.printed = cls.read_startup_lines()
        cls.wait_until_healthy()
        cls.drivers = []

    @classmethod
    def tearDownClass(cls):
        for driver in cls.drivers:
            driver.quit()
        cls.server.terminate()
        try:
            cls.server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            cls.server.kill()
        cls.log.close()
        shutil.copy(os.path.join(cls.tmp, "serve.log"), ARTIFACTS / "serve.log")
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def read_startup_lines(cls):
        lines = []
        deadline = time.time() + 60
        while time.time() < deadline:
            line = cls.server.stdout.readline()
            if not line:
                raise AssertionError("skillrelay serve exited; see serve.log")
            lines.append(line.rstrip("\n"))
            if line.startswith("A sign-in link for anyone"):
                return lines
        raise AssertionError(f"serve printed no sign-in help: {lines}")

    @classmethod
    def wait_until_healthy(cls):
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(cls.base + "/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("the server did not become healthy")

    def browser(self, phone=False):
        options = Options()
        options.binary_location = CHROMIUM
        for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run"]:
            options.add_argument(argument)
        if phone:
            # A phone's screen, not a small window: headless Chromium keeps windows at least 500 pixels wide.
            options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2}})
        else:
            options.add_argument("--window-size=1280,1000")
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        driver.implicitly_wait(0)
        self.drivers.append(driver)
        return driver

    def login_link(self, handle):
        result = subprocess.run(
            [BIN, "login-link", handle, "--db", self.db, "--base-url", self.base], capture_output=True, text=True, check=True)
        return result.stdout.strip()

    def sign_in(self, driver, handle, link=None):
        driver.get(link or self.login_link(handle))
        button = WebDriverWait(driver, WAIT).until(EC.element_to_be_clickable((By.CSS_SELECTOR, "form[action='/login'] button")))
        self.assertIn("Sign in as", driver.find_element(By.TAG_NAME, "h1").text)
        button.click()
        WebDriverWait(driver, WAIT).until(EC.url_to_be(self.base + "/ask"))

    def sign_out(self, driver):
        driver.find_element(By.CSS_SELECTOR, "form.signout button").click()
        WebDriverWait(driver, WAIT).until(EC.url_to_be(self.base + "/"))

    def shot(self, driver, name):
        driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))

    def submit(self, driver, button):
        """Clicks a form's button and returns the notice the next page shows."""
        # A mark on the current document: the next page is there once the mark is gone. (Waiting for the old page's
        # element to go stale races with the navigation: chromedriver sometimes answers "Node with given id does not
        # belong to the document" instead of "stale element", which failed a CI run.)
        driver.execute_script("window.skillrelayBeforeSubmit = true")
        button.click()
        WebDriverWait(driver, WAIT, ignored_exceptions=[WebDriverException]).until(
            lambda d: d.execute_script("return window.skillrelayBeforeSubmit") is None)
        return self.wait_for(driver, ".flash").text

    def ask(self, driver, topic, text):
        """Asks on the ask page as a person does: types the topic, sees the help line name it, types and sends."""
        driver.find_element(By.ID, "topic").send_keys(topic)
        WebDriverWait(driver, WAIT).until(
            lambda d: f"({topic})" in d.execute_script("return document.getElementById('topic-help').textContent"))
        driver.find_element(By.ID, "text").send_keys(text)
        driver.find_element(By.CSS_SELECTOR, "form[action='/ask'] button[type=submit]").click()
        WebDriverWait(driver, WAIT).until(EC.url_contains("/questions/q_"))

    def wait_for(self, driver, selector):
        return WebDriverWait(driver, WAIT).until(EC.presence_of_element_located((By.CSS_SELECTOR, selector)))

    # The whole story in one test, in order: each step needs the one before.
    def test_ask_answer_live_tag_and_forbidden(self):
        asker = self.browser()
        specialist = self.browser()

        # Signed out: the start page says how to sign in.
        asker.get(self.base + "/")
        self.assertIn("skillrelay login-link", asker.page_source)
        self.shot(asker, "01-start-signed-out")

        # A specialist signs in in a second session and says they are available.
        self.sign_in(specialist, "nikos.nikolaidis")
        specialist.get(self.base + "/inbox")
        Select(specialist.find_element(By.ID, "presence")).select_by_value("available")
        self.assertIn("Your presence is now available", self.submit(specialist, specialist.find_element(By.CSS_SELECTOR, "form[action='/me/presence'] button")))

        # The asker signs in by link: the link's page asks to confirm first.
        link = self.login_link("lena.weber")
        asker.get(link)
        self.wait_for(asker, "form[action='/login'] button")
        self.shot(asker, "02-sign-in-confirm")
        asker.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
        WebDriverWait(asker, WAIT).until(EC.url_to_be(self.base + "/ask"))
        cookie = asker.get_cookie("skillrelay_session")
        self.assertTrue(cookie["httpOnly"])
        self.assertEqual(cookie["sameSite"], "Strict")
        # The link works once.
        probe = self.browser()
        probe.get(link)
        self.assertIn("This link no longer works", probe.find_element(By.TAG_NAME, "h1").text)

        # Topic suggestions appear as one types (the full-text topic search), and the form does not move when they do:
        # a button that moved would not be under the pointer any more (a click in a CI run landed beside it).
        ask_button = asker.find_element(By.CSS_SELECTOR, "form[action='/ask'] button[type=submit]")
        where_before = ask_button.rect
        topic = asker.find_element(By.ID, "topic")
        topic.send_keys("kube")
        WebDriverWait(asker, WAIT).until(
            lambda d: "kubernetes" in [o.get_attribute("value") for o in d.find_elements(By.CSS_SELECTOR, "#topic-options option")])
        self.assertIn("Kubernetes", asker.find_element(By.ID, "topic-help").text)
        self.assertEqual(ask_button.rect, where_before)
        topic.clear()
        topic.send_keys("kubernetes")
        question = "How do I drain a node without downtime? <script>window.pwned = 1</script>"
        asker.find_element(By.ID, "text").send_keys(question)
        Select(asker.find_element(By.ID, "maxAnswers")).select_by_value("2")
        self.shot(asker, "03-ask")
        asker.find_element(By.CSS_SELECTOR, "form[action='/ask'] button[type=submit]").click()
        WebDriverWait(asker, WAIT).until(EC.url_contains("/questions/q_"))
        # What was typed shows as text, and the script in it never ran.
        self.assertEqual(asker.find_element(By.CSS_SELECTOR, ".question-text").text, question)
        self.assertIsNone(asker.execute_script("return window.pwned"))
        self.assertEqual(asker.find_element(By.ID, "delivered").text, "1")
        # A mark on this very page: if the page reloaded, it would be gone.
        asker.execute_script("window.stillTheSamePage = true")
        self.shot(asker, "04-question-waiting")

        # The specialist answers from their inbox.
        specialist.get(self.base + "/inbox")
        delivery = self.wait_for(specialist, "li.delivery")
        self.assertIn("<script>window.pwned = 1</script>", delivery.find_element(By.CSS_SELECTOR, ".question-text").text)
        self.assertIsNone(specialist.execute_script("return window.pwned"))
        self.shot(specialist, "05-inbox")
        delivery.find_element(By.TAG_NAME, "textarea").send_keys("Cordon it, then kubectl drain --ignore-daemonsets. <b>not bold</b>")
        self.assertIn("relayed to the asker (answer 1)", self.submit(specialist, delivery.find_element(By.CSS_SELECTOR, "form[action$='/answer'] button")))

        # The answer appears on the asker's page without a reload, with an alias and never a name.
        answer = WebDriverWait(asker, WAIT).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#answers li.answer")))
        WebDriverWait(asker, WAIT).until(lambda d: "kubectl drain" in answer.text)
        self.assertTrue(asker.execute_script("return window.stillTheSamePage === true"))
        self.assertIn("<b>not bold</b>", answer.find_element(By.CSS_SELECTOR, ".answer-text").text)
        self.assertIn("specialist 1", answer.text)
        self.assertNotIn("Nikos", answer.text)
        self.assertNotIn("nikos", asker.page_source)
        self.shot(asker, "06-question-answered-live")
        # Rating the answer that arrived live.
        self.assertIn("rated helpful", self.submit(asker, answer.find_element(By.CSS_SELECTOR, "button[value=true]")))

        # A manager tags a report's skill with one form; re-levels with one click.
        self.sign_out(specialist)
        self.sign_in(specialist, "lin.chen")
        specialist.get(self.base + "/team")
        person = self.wait_for(specialist, "#p-ji-woo\\.kang")
        tag = person.find_element(By.CSS_SELECTOR, "form.tag input[name=topic]")
        tag.send_keys("terraform")
        Select(person.find_element(By.CSS_SELECTOR, "form.tag select")).select_by_value("4")
        self.assertIn("Terraform at level 4", self.submit(specialist, person.find_element(By.CSS_SELECTOR, "form.tag button")))
        person = specialist.find_element(By.CSS_SELECTOR, "#p-ji-woo\\.kang")
        row = [li for li in person.find_elements(By.CSS_SELECTOR, ".skills li") if "Terraform" in li.text][0]
        self.assertEqual(row.find_element(By.CSS_SELECTOR, "button.current").text, "4")
        specialist.execute_script("arguments[0].scrollIntoView()", person)
        self.shot(specialist, "07-team-tagged")
        self.assertIn("Terraform at level 5", self.submit(specialist, row.find_element(By.CSS_SELECTOR, ".levels button[value$=':5']")))

        # Someone who manages nobody gets a 403 page for My team.
        self.sign_out(asker)
        self.sign_in(asker, "ji-woo.kang")
        self.assertEqual(len(asker.find_elements(By.CSS_SELECTOR, "a[href='/team']")), 0)
        asker.get(self.base + "/team")
        self.assertEqual(asker.find_element(By.TAG_NAME, "h1").text, "Not for you")
        self.assertIn("Error 403", asker.page_source)
        self.shot(asker, "08-team-forbidden")

        # The admin signs in with the link `serve` printed, and sees the numbers.
        printed = next(line for line in self.printed if line.startswith("Sign in as"))
        admin_link = re.search(r"http://\S+", printed).group(0)
        admin = self.browser()
        self.sign_in(admin, "lakshmi.gupta", link=admin_link)
        admin.get(self.base + "/admin")
        self.assertEqual(admin.find_element(By.ID, "stat-asked").text, "1")
        self.assertEqual(admin.find_element(By.ID, "stat-share").text, "100%")
        self.shot(admin, "09-admin")

        # Readable on a phone.
        phone = self.browser(phone=True)
        self.sign_in(phone, "henrik.andersen")
        self.assertEqual(phone.execute_script("return window.innerWidth"), 390)
        self.assertLessEqual(
            phone.execute_script("return document.documentElement.scrollWidth"),
            phone.execute_script("return document.documentElement.clientWidth"))
        self.shot(phone, "10-ask-on-a-phone")

        # An address that does not exist is a 404 page.
        phone.get(self.base + "/nowhere")
        self.assertEqual(phone.find_element(By.TAG_NAME, "h1").text, "Not found")
        self.shot(phone, "11-not-found")


    # A suggested skill through the real flow: a question on a parent topic reaches someone tagged only with one of its
    # subtopics, who answers; the asker rates the answer helpful; the answerer's manager accepts the suggestion on My team.
    def test_suggested_skill_accepted_by_a_manager(self):
        specialist = self.browser()
        self.sign_in(specialist, "nikos.nikolaidis")
        specialist.get(self.base + "/inbox")
        Select(specialist.find_element(By.ID, "presence")).select_by_value("available")
        self.assertIn("Your presence is now available", self.submit(specialist, specialist.find_element(By.CSS_SELECTOR, "form[action='/me/presence'] button")))

        asker = self.browser()
        self.sign_in(asker, "henrik.andersen")
        question = "Which load balancer sits in front of the clusters?"
        self.ask(asker, "infrastructure", question)
        self.assertEqual(asker.find_element(By.ID, "delivered").text, "1")

        # Nikos (tagged with kubernetes, not infrastructure) answers; the asker rates the answer helpful.
        specialist.get(self.base + "/inbox")
        WebDriverWait(specialist, WAIT).until(
            lambda d: any(question in item.text for item in d.find_elements(By.CSS_SELECTOR, "li.delivery")))
        delivery = [item for item in specialist.find_elements(By.CSS_SELECTOR, "li.delivery") if question in item.text][0]
        delivery.find_element(By.TAG_NAME, "textarea").send_keys("The HAProxy pair; see the platform runbook.")
        self.assertIn("relayed to the asker (answer 1)", self.submit(specialist, delivery.find_element(By.CSS_SELECTOR, "form[action$='/answer'] button")))
        answer = WebDriverWait(asker, WAIT).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#answers li.answer")))
        WebDriverWait(asker, WAIT).until(lambda d: "HAProxy" in answer.text)
        self.assertIn("rated helpful", self.submit(asker, answer.find_element(By.CSS_SELECTOR, "button[value=true]")))

        # Nikos's manager sees the suggestion on My team and accepts it at level 4.
        self.sign_out(specialist)
        self.sign_in(specialist, "jocelyn.delacruz")
        specialist.get(self.base + "/team")
        self.wait_for(specialist, "#suggestions")
        suggestion = specialist.find_element(
            By.CSS_SELECTOR, "#suggestions li.suggestion[data-handle='nikos.nikolaidis'][data-topic='infrastructure']")
        self.assertIn("Answered 1 question on Infrastructure helpfully", suggestion.text)
        specialist.execute_script("arguments[0].scrollIntoView()", suggestion)
        self.shot(specialist, "16-team-suggested-skill")
        Select(suggestion.find_element(By.CSS_SELECTOR, "form.accept select")).select_by_value("4")
        self.assertIn("nikos.nikolaidis: Infrastructure at level 4", self.submit(specialist, suggestion.find_element(By.CSS_SELECTOR, "form.accept button")))
        self.assertEqual(
            specialist.find_elements(By.CSS_SELECTOR, "#suggestions li.suggestion[data-handle='nikos.nikolaidis'][data-topic='infrastructure']"), [])
        person = specialist.find_element(By.CSS_SELECTOR, "#p-nikos\\.nikolaidis")
        row = [li for li in person.find_elements(By.CSS_SELECTOR, ".skills li") if "Infrastructure" in li.text][0]
        self.assertEqual(row.find_element(By.CSS_SELECTOR, "button.current").text, "4")
        self.assertIn("tagged by jocelyn.delacruz", row.text)
        self.shot(specialist, "17-team-suggestion-accepted")

    def test_follow_ups_and_reveal_by_consent(self):
        specialist = self.browser()
        self.sign_in(specialist, "nikos.nikolaidis")
        specialist.get(self.base + "/inbox")
        Select(specialist.find_element(By.ID, "presence")).select_by_value("available")
        self.assertIn("Your presence is now available", self.submit(specialist, specialist.find_element(By.CSS_SELECTOR, "form[action='/me/presence'] button")))

        asker = self.browser()
        self.sign_in(asker, "henrik.andersen")
        question = "Does our ingress controller support gRPC?"
        self.ask(asker, "kubernetes", question)

        specialist.get(self.base + "/inbox")
        WebDriverWait(specialist, WAIT).until(
            lambda d: any(question in item.text for item in d.find_elements(By.CSS_SELECTOR, "li.delivery")))
        delivery = [item for item in specialist.find_elements(By.CSS_SELECTOR, "li.delivery") if question in item.text][0]
        delivery.find_element(By.TAG_NAME, "textarea").send_keys("Yes, with the backend-protocol annotation.")
        self.assertIn("relayed to the asker (answer 1)", self.submit(specialist, delivery.find_element(By.CSS_SELECTOR, "form[action$='/answer'] button")))

        # The asker follows up under the answer, anonymously.
        answer = WebDriverWait(asker, WAIT).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#answers li.answer")))
        WebDriverWait(asker, WAIT).until(lambda d: "backend-protocol" in answer.text)
        asker.get(asker.current_url)
        answer = self.wait_for(asker, "#answers li.answer")
        answer.find_element(By.CSS_SELECTOR, "form.follow-up-form textarea").send_keys("Does that also work with TLS passthrough?")
        self.submit(asker, answer.find_element(By.CSS_SELECTOR, "form.follow-up-form button"))
        asker.execute_script("window.stillTheSamePage = true")

        # The specialist reads it in the inbox, from "the asker", and writes back.
        specialist.get(self.base + "/inbox")
        delivery = [item for item in specialist.find_elements(By.CSS_SELECTOR, "li.delivery") if question in item.text][0]
        self.assertIn("Does that also work with TLS passthrough?", delivery.find_element(By.CSS_SELECTOR, ".thread").text)
        self.assertNotIn("henrik", specialist.page_source.lower())
        delivery.find_element(By.CSS_SELECTOR, "form.follow-up-form textarea").send_keys("It does; set ssl-passthrough too.")
        self.submit(specialist, delivery.find_element(By.CSS_SELECTOR, "form.follow-up-form button"))

        # The reply appears on the asker's page without a reload, from "specialist 1", never a name.
        thread = self.wait_for(asker, "#answers li.answer .thread")
        WebDriverWait(asker, WAIT).until(lambda d: "ssl-passthrough" in thread.text)
        self.assertTrue(asker.execute_script("return window.stillTheSamePage === true"))
        self.assertNotIn("nikos", asker.page_source.lower())
        self.shot(asker, "18-follow-ups")

        # The asker offers to introduce themselves; the specialist accepts; only then does each see the other.
        asker.get(asker.current_url)
        offer = self.wait_for(asker, "#answers li.answer form.reveal button[value=offer]")
        self.assertIn("Offered", self.submit(asker, offer))
        self.assertNotIn("nikos", asker.page_source.lower())
        specialist.get(self.base + "/inbox")
        delivery = [item for item in specialist.find_elements(By.CSS_SELECTOR, "li.delivery") if question in item.text][0]
        self.assertIn("would like to introduce themselves", delivery.find_element(By.CSS_SELECTOR, "form.reveal").text)
        self.assertNotIn("henrik", specialist.page_source.lower())
        self.assertIn("You introduced yourselves", self.submit(specialist, delivery.find_element(By.CSS_SELECTOR, "form.reveal button[value=offer]")))
        self.assertIn("Henrik", specialist.find_element(By.CSS_SELECTOR, "li.delivery .revealed-name").text)
        asker.get(asker.current_url)
        self.assertIn("Nikos", self.wait_for(asker, "#answers li.answer .revealed-name").text)
        self.shot(asker, "19-revealed")

    def people(self, driver):
        return [section.get_attribute("id")[2:] for section in driver.find_elements(By.CSS_SELECTOR, "section.person")]

    def follow(self, driver, selector):
        """Follows a link and waits for the next page."""
        driver.execute_script("window.skillrelayBeforeClick = true")
        driver.find_element(By.CSS_SELECTOR, selector).click()
        WebDriverWait(driver, WAIT, ignored_exceptions=[WebDriverException]).until(
            lambda d: d.execute_script("return window.skillrelayBeforeClick") is None)
        return self.wait_for(driver, "h1")

    # My team for the CEO of the sample company: direct reports, a search, everyone a page of forty at a time, drilling
    # down and back up, a form that comes back to its page, and nothing outside one's own team.
    def test_team_search_paging_and_drill_down(self):
        import csv
        with open(ROOT / "Data" / "employees.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        below_ceo = sum(1 for row in rows if row["active"] == "true" and row["handle"] != "lena.weber")
        ceo = self.browser()
        self.sign_in(ceo, "lena.weber")
        ceo.get(self.base + "/team")
        self.wait_for(ceo, "#p-emeka\\.adeyemi")
        self.assertIn(f"{below_ceo} people report to you", ceo.find_element(By.ID, "team-summary").text)
        directs = self.people(ceo)
        self.assertIn("yaw.mensah", directs)
        self.assertNotIn("lin.chen", directs)
        self.shot(ceo, "12-team-direct-reports")

        # A search over everyone below, by a word of the name or handle.
        ceo.find_element(By.ID, "search").send_keys("chen")
        self.follow(ceo, "form[role=search] button")
        found = self.people(ceo)
        self.assertIn("lin.chen", found)
        self.assertIn("t.chen", found)
        self.assertNotIn("emeka.adeyemi", found)
        self.shot(ceo, "13-team-search")

        # Everyone below, forty a page: next to the end, everyone once, then back.
        self.follow(ceo, "#show-everyone")
        pages = [self.people(ceo)]
        self.assertEqual(len(pages[0]), 40)
        self.assertEqual(ceo.find_elements(By.ID, "previous-page"), [])
        while ceo.find_elements(By.ID, "next-page"):
            self.follow(ceo, "#next-page")
            pages.append(self.people(ceo))
        everyone = [handle for page in pages for handle in page]
        self.assertEqual(len(everyone), below_ceo)
        self.assertEqual(len(set(everyone)), below_ceo)
        self.shot(ceo, "14-team-last-page")
        self.follow(ceo, "#previous-page")
        self.assertEqual(self.people(ceo), pages[-2])

        # A tag from this page comes back to it.
        page_url = ceo.current_url
        person = ceo.find_element(By.CSS_SELECTOR, "section.person")
        handle = person.get_attribute("id")[2:]
        person.find_element(By.CSS_SELECTOR, "form.tag input[name=topic]").send_keys("terraform")
        self.assertIn(f"{handle}: Terraform at level 3", self.submit(ceo, person.find_element(By.CSS_SELECTOR, "form.tag button")))
        self.assertEqual(ceo.current_url.split("#")[0], page_url.split("#")[0])
        self.assertEqual(self.people(ceo), pages[-2])

        # Down two levels and back up by the breadcrumbs.
        ceo.get(self.base + "/team")
        self.follow(ceo, "#p-yaw\\.mensah a.drill")
        self.assertEqual(ceo.find_element(By.ID, "list-heading").text, "Direct reports of Yaw Mensah")
        self.follow(ceo, "#p-aiko\\.yamamoto a.drill")
        self.assertIn("lin.chen", self.people(ceo))
        crumbs = ceo.find_element(By.CSS_SELECTOR, "nav.breadcrumbs").text
        self.assertIn("Lena Weber", crumbs)
        self.assertIn("Yaw Mensah", crumbs)
        self.shot(ceo, "15-team-drilled-down")
        self.follow(ceo, "nav.breadcrumbs a[href='/team']")
        self.assertEqual(ceo.find_element(By.ID, "list-heading").text, "Your direct reports")

        # A manager cannot look above or beside their own team: the same page as for nobody at all.
        self.sign_out(ceo)
        self.sign_in(ceo, "lin.chen")
        for outside in ["lena.weber", "declan.obrien", "nobody.at.all"]:
            ceo.get(self.base + "/team?under=" + outside)
            self.assertEqual(ceo.find_element(By.TAG_NAME, "h1").text, "Not found")
            self.assertEqual(self.people(ceo), [])

if __name__ == "__main__":
    unittest.main()
