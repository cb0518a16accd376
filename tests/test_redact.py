"""Masking personal data in free text (realistic Swedish pupils' and staff's writing) and recognising
questions that tell of harm."""

from __future__ import annotations

import pytest

from bot.questions.safeguarding import mentions_harm
from bot.redact import mask_personal_data


@pytest.mark.parametrize(("text", "masked"), [
    ("jag heter Anna Svensson i 7B och blir mobbad, vad ska jag göra",
     "jag heter [namn] i 7B och blir mobbad, vad ska jag göra"),
    ("Hej! Jag heter Ali och går i 8A. Ring mig på 070-123 45 67 eller mejla ali.h@skola.goteborg.se",
     "Hej! Jag heter [namn] och går i 8A. Ring mig på [telefon] eller mejla [e-post]"),
    ("Kan jag prata med Maria Eriksson om gymnasievalet?", "Kan jag prata med [namn] om gymnasievalet?"),
    ("Mitt personnummer är 20080314-2389, måste jag skriva det på ansökan?",
     "Mitt personnummer är [personnummer], måste jag skriva det på ansökan?"),
    ("pnr 0803142389", "pnr [personnummer]"),
    # pupils who write in lower case, with or without å, ä, ö
    ("jag heter anna svensson och går i 7b", "jag heter [namn] och går i 7b"),
    ("hej jag heter ali, hur söker man", "hej jag heter [namn], hur söker man"),
    ("mitt namn ar sara lundqvist", "mitt namn ar [namn]"),
    ("i am tired of school", "i am tired of school"),
    ("Min mentor Karin Lund-Berg sa att jag skulle ringa 031-365 00 00",
     "Min mentor [namn] sa att jag skulle ringa [telefon]"),
    ("My name is John Smith, call +46 31 123 45 67", "My name is [namn], call [telefon]"),
    ("Vad krävs för att bli sjuksköterska i Göteborg?", "Vad krävs för att bli sjuksköterska i Göteborg?"),
    ("Hur funkar prao i åk 8?", "Hur funkar prao i åk 8?"),
])
def test_names_personnummer_phone_numbers_and_email_are_masked(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize("text", [
    "jag blir mobbad i skolan", "dom mobbar mig på rasterna", "min pappa slår mig", "jag vill inte leva längre",
    "ibland vill jag skada mig själv", "jag känner mig otrygg på bussen", "I'm being bullied at school",
    "someone at home hits me", "Jag blir utfryst av klassen", "han hotar mig varje dag",
    # typed without å, ä, ö (a phone or a borrowed keyboard)
    "min pappa slar mig", "ibland vill jag bara do", "jag tanker pa sjalvmord", "jag blev krankt pa rasten",
    "jag ar radd i skolan", "ibland vill jag inte leva", "ibland vill jag bara dö",
    # feeling low or alone, not coping with school: they used to get careers articles or "jag vet inte"
    "jag mår så dåligt", "mår jättedåligt hela tiden", "jag har inga kompisar", "jag känner mig ensam",
    "jag vill inte gå till skolan", "jag hatar skolan", "orkar inte mer", "jag mar daligt", "jag har inga vanner",
    "I feel so lonely", "I have no friends", "I don't want to go to school",
])
def test_questions_that_tell_of_harm_are_recognised(text: str) -> None:
    assert mentions_harm(text)


@pytest.mark.parametrize("text", [
    "vad är prao?", "hur söker jag till gymnasiet?", "när är nästa träff?", "How do I bring working life into maths?",
    "vilka yrken finns inom vården?", "jag blev vald till elevrådet", "vilket program valde du?",
    "jag är ensam syv på skolan, hur hinner jag med alla", "hur stöttar vi elever som mår dåligt inför valet?",
])
def test_ordinary_guidance_questions_are_not(text: str) -> None:
    assert not mentions_harm(text)
