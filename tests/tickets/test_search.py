"""The tickets list's text search and filters (tickets.search, tickets.selectors): the terms a
ticket is found by in Chinese, English, mixed text and by number; the filters; visibility
per role; keyset pages; the terms kept current."""

# Full-width letters, digits and punctuation are what several of these tests are about:
# ruff: noqa: RUF001

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import InvalidInput
from tests.factories import (
    CategoryFactory,
    ContactFactory,
    CustomerFactory,
    open_ticket,
    update_ticket,
)
from tickets import search, selectors
from tickets.models import Ticket
from tickets.search import TicketFilters, parse_filters, query_terms, text_terms, ticket_terms


# factory_boy factories are untyped: what they build, as Any
def make_contact(**fields: Any) -> Any:
    return ContactFactory(**fields)


def make_customer(**fields: Any) -> Any:
    return CustomerFactory(**fields)


def make_category(**fields: Any) -> Any:
    return CategoryFactory(**fields)


# --- the terms (pure functions) ----------------------------------------------------------
def test_chinese_text_gives_bigrams_and_no_stray_pairs_across_punctuation() -> None:
    assert text_terms("打印机坏了") == {"打印", "印机", "机坏", "坏了"}
    # a run of one character stays whole; punctuation and spaces end a run
    assert text_terms("网，打印机") == {"网", "打印", "印机"}


def test_subject_and_names_also_give_single_characters() -> None:
    assert text_terms("王伟", unigrams=True) == {"王伟", "王", "伟"}


def test_english_words_are_lower_cased_with_their_prefixes() -> None:
    assert text_terms("Printer") == {"pri", "prin", "print", "printe", "printer"}
    assert text_terms("HP is ok") == {"hp", "is", "ok"}
    # at most 12 characters of a long word
    assert max(text_terms("internationalisation"), key=len) == "internationa"


def test_full_width_letters_and_digits_are_the_ascii_ones() -> None:
    assert text_terms("ＶＰＮ１２") == text_terms("VPN12")


def test_mixed_words_give_their_letter_and_digit_runs_and_hyphens_join() -> None:
    assert {"kx", "4471", "kx4471"} <= text_terms("KX4471")
    assert {"kx", "4471", "kx4471"} <= text_terms("KX-4471")
    assert {"wi", "fi", "wifi"} <= text_terms("Wi-Fi")


def test_mixed_chinese_and_english_split_at_the_script_change() -> None:
    assert text_terms("HP打印机offline") == {
        "hp",
        "打印",
        "印机",
        *{"off", "offl", "offli", "offlin", "offline"},
    }


def test_ticket_terms_cover_number_subject_description_contact_and_customer() -> None:
    terms = ticket_terms(
        number="T-2026-000123",
        subject="VPN 连不上",
        description="每小时掉线",
        contact_name="李雷",
        contact_email="li.lei@example.com",
        customer_name="Acme 贸易",
    )
    assert terms == sorted(set(terms))  # sorted, each once
    assert {"t-2026-000123", "000123", "123"} <= set(terms)
    assert {"vpn", "连不", "不上", "连"} <= set(terms)
    assert {"每小", "掉线"} <= set(terms)
    assert "掉" not in terms  # the description gives pairs only
    assert {"李雷", "李", "li", "lei", "example", "com"} <= set(terms)
    assert {"acme", "贸易"} <= set(terms)
    assert "贸" not in terms  # a customer's name gives pairs only


def test_query_terms() -> None:
    assert query_terms("打印机") == ["打印", "印机"]
    assert query_terms("print") == ["print"]
    assert query_terms("王") == ["王"]
    assert query_terms("Ｐｒｉｎｔｅｒ 打印") == ["printer", "打印"]
    assert query_terms("T-2026-000123") == ["t-2026-000123"]
    assert query_terms("li.lei@example.com") == ["li", "lei", "example", "com"]
    assert query_terms("internationalisation") == ["internationa"]
    assert query_terms(" !! ， ") == []


def test_every_query_of_a_text_finds_that_text() -> None:
    """What a person types of a ticket's own words is found by its terms."""
    terms = set(
        ticket_terms(
            number="T-2026-004711",
            subject="打印机无法连接 Wi-Fi，型号 KX-4471",
            description="The printer on floor 3 says 'offline' since Monday.",
            contact_name="欧阳明轩",
            contact_email="ouyang@example.cn",
            customer_name="上海明达科技有限公司",
        )
    )
    for query in (
        "打印机",
        "无法连接",
        "wifi",
        "Wi-Fi",
        "kx4471",
        "KX-4471",
        "print",
        "offline monday",
        "欧阳明轩",
        "欧",
        "明达科技",
        "ouyang@example.cn",
        "T-2026-004711",
        "4711",
        "004711",
        "打印 offline",
    ):
        assert set(query_terms(query)) <= terms, query


# --- the filters ---------------------------------------------------------------------------
def test_parse_filters_reads_every_filter() -> None:
    filters = parse_filters(
        {
            "status": "new,open",
            "priority": "P1",
            "team": "3",
            "assignee": "me",
            "customer": "9",
            "breached": "true",
            "search": " 打印机 ",
        }
    )
    assert filters == TicketFilters(
        statuses=("new", "open"),
        priority="P1",
        team=3,
        assignee="me",
        customer=9,
        breached=True,
        search="打印机",
    )
    assert search.screen_query(filters) == {
        "status": "new,open",
        "priority": "P1",
        "team": "3",
        "assignee": "me",
        "customer": "9",
        "breached": "true",
        "search": "打印机",
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"status": "open,"}, "status"),
        ({"priority": "P9"}, "priority"),
        ({"team": "x"}, "team"),
        ({"customer": "0"}, "customer"),
        ({"assignee": "-3"}, "assignee"),
        ({"breached": "maybe"}, "breached"),
        ({"search": "字" * 201}, "search"),
        ({"category": "nope"}, "category"),
    ],
)
@pytest.mark.django_db
def test_parse_filters_refuses_what_is_not_a_filter(params: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_filters(params)
    assert list(caught.value.errors) == [field]


def _ids(user: Any, **params: str) -> list[int]:
    page = selectors.list_tickets_page(user, parse_filters(params), cursor=None, limit=100)
    return [t.pk for t in page.items]


@pytest.mark.django_db
def test_filters_narrow_the_list(desk: Any) -> None:
    network = make_category(code="network", name="Network")
    acme = make_customer(name="Acme")
    acme_contact = make_contact(customer=acme, email="ops@acme.example")
    mine = open_ticket(desk, subject="VPN 断线", priority="P1", category_code="network")
    other = open_ticket(desk, subject="Invoice missing", contact_id=acme_contact.pk)
    update_ticket(mine.pk, assignee_id=desk.agent1.pk)
    update_ticket(other.pk, assignee_id=None, status="pending_customer", resolution_breached=True)
    user = desk.agent1

    assert _ids(user) == [other.pk, mine.pk]  # newest first
    assert _ids(user, status="pending_customer") == [other.pk]
    assert _ids(user, status="new,open") == [mine.pk]
    assert _ids(user, priority="P1") == [mine.pk]
    assert _ids(user, team=str(desk.team.pk)) == [other.pk, mine.pk]
    assert _ids(user, team=str(desk.other_team.pk)) == []
    assert _ids(user, assignee="me") == [mine.pk]
    assert _ids(user, assignee="none") == [other.pk]
    assert _ids(user, assignee=str(desk.agent1.pk)) == [mine.pk]
    assert _ids(user, customer=str(acme.pk)) == [other.pk]
    assert _ids(user, category=network.code) == [mine.pk]
    assert _ids(user, breached="true") == [other.pk]
    assert _ids(user, breached="false") == [mine.pk]
    assert _ids(user, search="断线") == [mine.pk]
    assert _ids(user, search="invoice") == [other.pk]
    assert _ids(user, search="acme") == [other.pk]  # the customer's name
    assert _ids(user, search=other.number) == [other.pk]
    assert _ids(user, search="断线 invoice") == []  # every term, not any


@pytest.mark.django_db
def test_search_finds_chinese_english_mixed_and_number(desk: Any) -> None:
    desk.customer.name = "Acme"  # no digits of its own that a number's digits could find
    desk.customer.save()
    contact = make_contact(customer=desk.customer, name="欧阳明轩", email="ouyang@example.cn")
    printer = open_ticket(
        desk,
        subject="打印机无法连接 Wi-Fi",
        description="型号 KX-4471，since Monday offline",
        contact_id=contact.pk,
    )
    vpn = open_ticket(desk, subject="VPN drops every hour", description="每小时掉线一次")
    supervisor = desk.supervisor

    assert _ids(supervisor, search="打印机") == [printer.pk]
    assert _ids(supervisor, search="连接") == [printer.pk]
    assert _ids(supervisor, search="print") == []  # English words only: 打印机 is Chinese
    assert _ids(supervisor, search="wifi") == [printer.pk]
    assert _ids(supervisor, search="kx4471") == [printer.pk]
    assert _ids(supervisor, search="Monday OFFLINE") == [printer.pk]
    assert _ids(supervisor, search="欧阳") == [printer.pk]  # the contact's name
    assert _ids(supervisor, search="ouyang@example.cn") == [printer.pk]
    assert _ids(supervisor, search="掉线") == [vpn.pk]
    assert _ids(supervisor, search="drop") == [vpn.pk]  # a prefix finds the word
    assert _ids(supervisor, search="VPN 掉线") == [vpn.pk]
    assert _ids(supervisor, search=vpn.number) == [vpn.pk]
    assert _ids(supervisor, search=vpn.number.lower()) == [vpn.pk]
    assert _ids(supervisor, search=str(int(vpn.number.rsplit("-", 1)[1]))) == [vpn.pk]
    assert _ids(supervisor, search="打印机 掉线") == []
    assert _ids(supervisor, search="，。!") == [vpn.pk, printer.pk]  # nothing to search by


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_search_asks_the_terms_column_and_its_index(desk: Any) -> None:
    open_ticket(desk, subject="打印机无法连接")
    with CaptureQueriesContext(connection) as captured:
        _ids(desk.supervisor, search="打印机")
    sql = captured.captured_queries[-1]["sql"]
    assert '"search_terms" @>' in sql
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ticket_search_terms_gin'"
        )
        (definition,) = cursor.fetchone()
    assert "gin (search_terms jsonb_path_ops)" in definition


# --- visibility per role --------------------------------------------------------------------
@pytest.mark.django_db
def test_each_role_lists_what_it_may_see_and_no_filter_reaches_further(desk: Any) -> None:
    ours = open_ticket(desk, subject="Printer 打印机 ours")
    theirs = open_ticket(desk, subject="Printer 打印机 theirs")
    update_ticket(theirs.pk, team_id=desk.other_team.pk, assignee_id=desk.outsider.pk)
    mine_elsewhere = open_ticket(desk, subject="Printer 打印机 mine elsewhere")
    update_ticket(mine_elsewhere.pk, team_id=desk.other_team.pk, assignee_id=desk.agent2.pk)

    assert _ids(desk.supervisor, search="打印机") == [mine_elsewhere.pk, theirs.pk, ours.pk]
    assert _ids(desk.agent1, search="打印机") == [ours.pk]
    assert _ids(desk.agent2, search="打印机") == [mine_elsewhere.pk, ours.pk]
    assert _ids(desk.outsider, search="打印机") == [mine_elsewhere.pk, theirs.pk]
    # naming another team, another's assignee or their ticket's number reveals nothing
    assert _ids(desk.agent1, team=str(desk.other_team.pk)) == []
    assert _ids(desk.agent1, assignee=str(desk.outsider.pk)) == []
    assert _ids(desk.agent1, search=theirs.number) == []
    assert _ids(desk.agent1, customer=str(desk.customer.pk)) == [ours.pk]


# --- keyset pages ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_keyset_pages_walk_forward_and_back_without_gaps_or_repeats(desk: Any) -> None:
    tickets = [open_ticket(desk, subject=f"打印机 {n}") for n in range(11)]
    # three tickets share one creation moment: the id breaks the tie
    same = timezone.now() - timedelta(hours=1)
    Ticket.objects.filter(pk__in=[t.pk for t in tickets[3:6]]).update(created_at=same)
    expected = list(Ticket.objects.order_by("-created_at", "-id").values_list("pk", flat=True))
    filters = parse_filters({"search": "打印机"})

    seen: list[int] = []
    pages = []
    cursor = None
    while True:
        page = selectors.list_tickets_page(desk.supervisor, filters, cursor=cursor, limit=4)
        pages.append(page)
        seen += [t.pk for t in page.items]
        if page.next is None:
            break
        cursor = page.next
    assert seen == expected
    assert [len(p.items) for p in pages] == [4, 4, 3]
    assert pages[0].previous is None

    back = selectors.list_tickets_page(desk.supervisor, filters, cursor=pages[2].previous, limit=4)
    assert [t.pk for t in back.items] == [t.pk for t in pages[1].items]
    first = selectors.list_tickets_page(desk.supervisor, filters, cursor=back.previous, limit=4)
    assert [t.pk for t in first.items] == [t.pk for t in pages[0].items]
    assert first.previous is None


@pytest.mark.django_db
def test_a_page_reads_no_description_nor_terms_and_a_fixed_number_of_statements(
    desk: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(5):
        open_ticket(desk, subject=f"VPN {n}", description="x" * 5000)
    with django_assert_max_num_queries(3) as captured:  # roles, teams, the page
        page = selectors.list_tickets_page(
            desk.agent1, parse_filters({"search": "vpn"}), cursor=None, limit=50
        )
    assert len(page.items) == 5
    sql = captured.captured_queries[-1]["sql"]
    select_list = sql.split(" FROM ")[0]
    assert '"description"' not in select_list and '"search_terms"' not in select_list


# --- terms kept current ----------------------------------------------------------------------
@pytest.mark.django_db
def test_intake_writes_the_terms(desk: Any) -> None:
    ticket = open_ticket(desk, subject="网络 故障", description="Router down")
    assert ticket.search_terms == ticket_terms(
        number=ticket.number,
        subject="网络 故障",
        description="Router down",
        contact_name=desk.contact.name,
        contact_email=desk.contact.email,
        customer_name=desk.customer.name,
    )


@pytest.mark.django_db(transaction=True)
def test_renaming_a_contact_or_customer_refreshes_their_tickets_terms(desk: Any) -> None:
    ticket = open_ticket(desk, subject="Printer")
    untouched = open_ticket(desk, subject="Other", contact_id=make_contact().pk)
    before = Ticket.objects.get(pk=untouched.pk).search_terms

    desk.contact.name = "韩梅梅"
    desk.contact.save()
    assert _ids(desk.supervisor, search="韩梅梅") == [ticket.pk]

    desk.customer.name = "北京星辰"
    desk.customer.save(update_fields=["name", "updated_at"])
    assert _ids(desk.supervisor, search="星辰") == [ticket.pk]

    desk.contact.phone = "123"
    desk.contact.save(update_fields=["phone"])  # not a searched field: nothing to do
    assert Ticket.objects.get(pk=untouched.pk).search_terms == before


@pytest.mark.django_db
def test_refresh_terms_rewrites_stale_rows_only(desk: Any) -> None:
    first = open_ticket(desk, subject="Printer")
    second = open_ticket(desk, subject="Scanner")
    Ticket.objects.filter(pk=first.pk).update(search_terms=[])
    version = Ticket.objects.get(pk=first.pk).version

    assert search.refresh_terms(batch=1) == 1
    refreshed = Ticket.objects.get(pk=first.pk)
    assert "printer" in refreshed.search_terms
    assert refreshed.version == version  # an index of the ticket, not a change of it
    assert search.refresh_terms([second.pk]) == 0


@pytest.mark.django_db
def test_refresh_command_rewrites_one_customers_tickets(desk: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    ours = open_ticket(desk, subject="Printer")
    other_contact = make_contact()
    theirs = open_ticket(desk, subject="Scanner", contact_id=other_contact.pk)
    Ticket.objects.update(search_terms=[])
    out = StringIO()

    call_command("refresh_ticket_search", customer=desk.customer.pk, stdout=out)

    assert out.getvalue().strip() == "Search terms rewritten: 1 ticket(s)."
    assert "printer" in Ticket.objects.get(pk=ours.pk).search_terms
    assert Ticket.objects.get(pk=theirs.pk).search_terms == []
