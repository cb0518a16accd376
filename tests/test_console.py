"""The console never crashes on input: each flow is driven with wrong input first, then completed."""

from __future__ import annotations

from pathlib import Path

from bot.runtime import Bot
from tests.conftest import LEAD, run_console


async def test_buttons_and_commands_with_wrong_numbers(bot: Bot, tmp_path: Path) -> None:
    output = await run_console(bot, ["7", "/syv hjälp", "99", "/syv språk xx", "/syv språk en", "help",
                                     "/syv language sv"], tmp_path, user=LEAD)
    assert output.count("Det finns inga knappar att välja just nu") == 2  # before and after the help
    assert "Traceback" not in output
    assert "Skriv `/syv språk sv` eller `/syv språk en`." in output and "Done! I will answer you in English" in output


async def test_conference_form_reasks_until_valid_and_says_the_date_back(bot: Bot, tmp_path: Path) -> None:
    output = await run_console(bot, [
        "/syv konferens",
        "",  # required: asked again
        "Uppstartskonferens Partille",
        "9", "quit?", "1",  # out of range, a word, then a valid choice
        "Partille",
        "snart", "nästa tisdag 9",  # unclear, then a phrase
        "nästa tisdag 11",
        "Kulturhuset",
        "många",  # checked when the form is sent: the label is named and the field asked again
        "Första raden.", "Andra raden.", "",
        "",
        "#syv-projekt", "", "", "",
        "30",
        "/syv konferenser",
    ], tmp_path, user=LEAD)
    assert "Traceback" not in output
    assert "! Välj 1–3." in output
    assert "imorgon kl 8" in output  # the format example after "snart"
    assert "Uppfattat: tisdag 3 mars kl 09:00" in output
    assert "! Max antal deltagare: Skriv ett heltal" in output
    assert "capacity" not in output and "audience_channels" not in output
    assert "Klart! Uppstartskonferens Partille är skapad" in output
    assert "Första raden.\nAndra raden." in output


async def test_cancel_and_quit_leave_a_form_without_saving(bot: Bot, tmp_path: Path) -> None:
    output = await run_console(bot, ["/syv konferens", "Träff", "avbryt", "/syv konferenser",
                                     "/syv konferens", "Träff", "2", "quit", "/syv konferenser"], tmp_path, user=LEAD)
    assert output.count("Avbrutet – inget är sparat.") == 2
    assert "Hej då!" in output and output.rstrip().endswith("Hej då!")  # quit inside the form left the console


async def test_series_form_and_buttons_grouped_under_each_meeting(bot: Bot, tmp_path: Path) -> None:
    output = await run_console(bot, [
        "/syv träffserie",
        "Mall", "1",  # a word that is no option, then the template
        "Ekdalsskolan", "sommaren", "12/1 9:00", "", "", "", "", "nej", "",
    ], tmp_path, user=LEAD)
    assert "Traceback" not in output and "! Välj 1." in output
    assert "Klart! 5 träffar är skapade för Ekdalsskolan." in output and "utspridda" in output
    meetings = output.split("== ")[1:]  # each meeting's header, its text, then its own buttons
    assert any("Processträff 1 av 5" in part and "[1] " in part for part in meetings)
    assert " jul " not in output  # no meeting in the summer holiday


async def test_survey_form_with_typed_times_and_several_question_lines(bot: Bot, tmp_path: Path) -> None:
    output = await run_console(bot, [
        "/syv enkät",
        "Pulsen",
        "5", "",  # no such template, then none
        "Hur mår du? | skala", "Vad saknas? | text", "",
        "#personal", "", "",
        "",  # anonymity: keep the initial value, shown by its label
        "imorgon kl 25", "imorgon kl 8",
        "om en vecka",
        "", "",
        "/syv enkät lista",
    ], tmp_path, user=LEAD)
    assert "Traceback" not in output and "[anonymous]" not in output and "[none]" not in output
    assert "Anonymitet [Anonym – ingen kan se" in output
    assert "Uppfattat: tisdag 3 mars kl 08:00" in output
    assert "Pulsen" in output


async def test_poll_with_closing_phrase_and_export_menu_names_surveys(bot: Bot, tmp_path: Path) -> None:
    output = await run_console(bot, [
        '/syv poll "Fika på fredag?" stänger blaha',
        '/syv poll "Fika på fredag?" "Ja" "Nej" stänger fredag 15',
        "/syv export",
    ], tmp_path, user=LEAD)
    assert "Jag förstod inte \"blaha\"" in output
    assert "fre 6 mar 2026 15:00" in output
    menu = output.split("/syv export")[-1] if "/syv export" in output else output
    assert "Fika på fredag?" in menu
    assert ":lock:" not in output and ":warning:" not in output


async def test_roles_and_questions_with_wrong_input(bot: Bot, tmp_path: Path) -> None:
    output = await run_console(bot, ["/syv roll <@U2> kung", "/syv roll <@U2> elev", "vad är prao?", "42", "1"],
                               tmp_path, user=LEAD)
    assert "Rollen \"kung\" finns inte" in output and "@U2 har nu rollen elev" in output
    assert "Det finns ingen sådan knapp." in output and "Traceback" not in output
