"""The demo's names: a few hundred common ones and a long tail, as a real list has.

A contact's name is a common one (``FIRST_NAMES`` / ``LAST_NAMES``, drawn from the
simulation's stream, as the demo always did) or, with a fixed chance, one from the
long tail: several hundred more first names and a few thousand surnames, many of
them built the way surnames are built in their language (Lind + berg, Yama + moto,
Brad + ford, Petr + ović).  The tail has its own random stream, derived from the
seed: the story (who opens, clicks, converts) does not depend on the name lists, and
a store of 1M contacts has thousands of distinct names, not 231.  Popularity in the
tail falls off with rank (Zipf-like), so a few tail names are frequent and most rare.
"""

from __future__ import annotations

import hashlib
import random
from bisect import bisect_left
from itertools import accumulate, product

FIRST_NAMES = (
    "Anna", "Lukas", "Sofía", "Mateo", "Chloé", "Théo", "Zoë", "Noah", "Amélie", "Jonas",
    "Björn", "Søren", "Åsa", "Ingrid", "Matías", "Lucía", "José", "Inés", "Joana", "João",
    "Giulia", "Marco", "Francesca", "Luca", "Agnieszka", "Łukasz", "Zofia", "Jakub",
    "Olga", "Dmitri", "Aiko", "Haruto", "Yuki", "Sakura", "Wei", "Mei", "Jun", "Hana",
    "Min-jun", "Ji-woo", "Priya", "Arjun", "Ananya", "Rohan", "Fatima", "Omar", "Aisha",
    "Youssef", "Leila", "Amir", "Chidi", "Amara", "Kwame", "Ngozi", "Thabo", "Zanele",
    "Liam", "Olivia", "Emma", "Oliver", "Ava", "Ethan", "Mia", "James", "Isabella",
    "Lucas", "Grace", "Daniel", "Emily", "Samuel", "Hannah", "Benjamin", "Charlotte",
    "Henry", "Nora", "Erik", "Freya", "Mikael", "Élodie", "François", "Renée", "Hélène",
    "Jürgen", "Jörg", "Ayşe", "Mehmet", "Emre", "Elif", "Linh", "Minh", "Thảo",
    "Siobhán", "Aoife", "Ciarán", "Seán", "Niamh", "Tomás", "Kalani", "Ana", "Pedro",
    "Camila", "Valentina", "Diego", "Carmen", "Ravi", "Meera", "Kofi", "Esi", "Tariq",
    "Noor", "Dániel", "Réka", "Petra", "Milan", "Katarzyna", "Ivan", "Nadia", "Sven",
)
LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "García", "Martínez", "López",
    "González", "Fernández", "Rodríguez", "Dubois", "Lefèvre", "Moreau", "Girard",
    "Rossi", "Russo", "Bianchi", "Ricci", "Esposito", "Nowak", "Kowalski", "Wiśniewska",
    "Wójcik", "Kowalczyk", "Andersson", "Johansson", "Nilsson", "Lindström", "Sørensen",
    "Jensen", "Nielsen", "Hansen", "Larsen", "Silva", "Santos", "Oliveira", "Pereira",
    "Costa", "Smith", "Johnson", "Williams", "Brown", "Jones", "Taylor", "Wilson",
    "Davies", "Evans", "Thomas", "Walker", "O'Brien", "Murphy", "Kelly", "O'Connor",
    "Tanaka", "Suzuki", "Takahashi", "Watanabe", "Yamamoto", "Kim", "Lee", "Park", "Choi",
    "Chen", "Wang", "Li", "Zhang", "Liu", "Nguyễn", "Trần", "Lê", "Phạm", "Sharma",
    "Patel", "Singh", "Gupta", "Iyer", "Khan", "Haddad", "Al-Sayed", "Mansour", "Okafor",
    "Mensah", "Adeyemi", "Nkosi", "Dlamini", "Yılmaz", "Kaya", "Demir", "Öztürk", "Novák",
    "Dvořák", "Horváth", "Kovács", "Nagy", "Papadopoulos", "Ivanova", "Petrov",
    "van der Berg", "de Vries", "Janssen", "Bakker", "Visser", "Cohen", "Levi", "Fontaine",
    "Beaumont", "Osei", "Boateng", "Rahman", "Hossain", "Ferreira", "Almeida",
)

# -- the long tail -----------------------------------------------------------------------
_MORE_FIRST = """
Aaliyah Abdullah Abebe Abigail Ada Adam Adaeze Adrián Adriana Agata Agustín Ahmed Aida
Ailsa Aino Akira Alba Albert Alejandro Aleksander Alessandro Alexandra Alfie Ali Alice
Alicia Alina Alma Amani Amelia Anders Andrea Andrei Andrés Aneta Ángel Angela Anjali
Annika Antoine Anton Antonia Arda Aria Ariana Arne Aron Arthur Asher Astrid Aurora
Ayaan Ayumi Babajide Barbara Bartosz Beatriz Bella Ben Bernard Bianca Birgit Blanca
Bo Bogdan Bruno Camille Carla Carlos Caroline Cecilia Chiara Chinonso Christian
Christina Claire Clara Colm Connor Cristina Dagny Daisuke Dalia Damian Dana Daniela
Dario David Deepika Denise Diana Dilnoza Dominik Dorota Duc Dylan Ebba Eduardo Edward
Eero Eilidh Ekaterina Elena Eleni Eliana Elias Elijah Elin Elisa Ella Ellen Elsa Emil
Emilia Emine Enrique Enzo Erin Esra Esther Eva Evelyn Ewa Fabian Farah Felix Filip
Finn Fiona Florence Florian Francisco Frida Gabriel Gabriela Gaurav Georg George
Georgia Gianluca Gustav Habib Hakan Hamza Hanna Harper Harry Hassan Heidi Helga Hemi
Hiroshi Hugo Ibrahim Ida Ifeoma Ilse Imogen Irene Isaac Isak Ishaan Ismael Ivana Jack
Jacob Jamal Jana Jasmine Javier Jesper Jessica Jin Joaquín Johan Jonathan Jorge Josefine
Joseph Julia Julian Julien Juliette Kai Kaito Kamala Karim Karin Karolina Kasper
Kateřina Kavya Kemal Kenji Kerstin Khadija Kiara Kieran Klara Kristian Krzysztof Lara
Lars Laura Laurent Layla Lea Leon Leonardo Lena Leo Lila Lina Linnea Lisa Lorenzo Louis
Louise Luana Lucy Ludwig Luis Luka Lwazi Madeleine Magdalena Magnus Mai Maja Malik
Manon Manuel Marcel Marek Margarida Maria Mariam Marie Marina Mario Marta Martin Martina
Maryam Mathilde Matteo Maximilian Maya Mehdi Melek Mia-Rose Michael Miguel Mihai Mika
Mikaela Miriam Mohammed Moritz Nadia Naledi Nathan Nicolás Nikolai Nina Nisha Noa Noé
Nuno Obinna Oksana Ole Olamide Oscar Pablo Paola Patrick Paula Paulo Pavel Pietro Pilar
Piotr Rafael Rahul Raquel Rasmus Rebecca Ricardo Riya Robert Rosa Ruby Rui Ryo Saanvi
Sabine Salma Samira Sandra Santiago Sara Sasha Sebastian Selin Sergio Shira Simon Simone
Sina Sipho Sofia Sophie Stefan Stella Susanna Szymon Takumi Tamar Tanvir Tatiana Teresa
Thomas Timo Tobias Tomasz Una Valentin Vera Victor Viktor Vincent Viola Vivek Wiktoria
Wilhelm Willem Xavier Xiu Yara Yasmin Yosef Yusuf Zainab Zara Zeynep Zuzana
"""

_MORE_LAST = """
Abe Acheampong Adams Aguilar Ahmed Alanis Alonso Alves Amato Antonelli Aoki Appiah Araújo
Arslan Asante Bailey Baker Banerjee Barbieri Barros Bauer Becker Bell Bennett Bergmann
Bertrand Bhatt Blanc Bondarenko Bonnet Bose Braun Brunner Caldwell Campbell Cardoso
Carter Castillo Castro Chaudhry Chopra Clarke Colombo Conti Cooper Correia Coulibaly
Cruz Das De Luca Delgado Diallo Diaz Dimitrov Dogan Doherty Dominguez Edwards Eriksen
Fabbri Farouk Faure Ferrari Fitzgerald Flores Fournier Fuchs Fujita Gallagher Gallo
Garnier Georgiou Ghosh Gomes Graham Greco Guerrero Gutiérrez Haas Hall Harris Hartmann
Hashimoto Hernández Hoffmann Horvat Huang Hughes Hussain Ibrahim Inoue Ito Jackson
Jakobsen Jiménez Joshi Kamau Kapoor Karlsson Kato Keller King Klein Kobayashi Koch Kozak
Krause Kumar Kuznetsov Lambert Lange Laurent Lehmann Leroy Lim Lopes Lorenz Ma Maas
Mahlangu Maier Marchetti Marino Marques Martin Mazur Meier Mendes Mendoza Mercier
Meyer Mishra Mitchell Molina Morales Moreno Morris Moyo Mukherjee Muñoz Nakamura Navarro
Ndlovu Neumann Ng Novak Nowicki Nunes Obi Ogunleye Okonkwo Olsen Ortiz Owusu Özdemir
Pavlov Pellegrini Perez Peters Pham Phillips Pires Popescu Popov Quinn Rama Ramírez
Ramos Reddy Reyes Ribeiro Richter Rivera Roberts Robinson Roman Romano Romero Rousseau
Roy Ruiz Ryan Saito Salazar Sánchez Santoro Sasaki Sato Schäfer Schulz Scott Sen
Serrano Shah Shapiro Simon Sokolova Sousa Stewart Sullivan Suárez Sviridova Tan Teixeira
Thompson Torres Tran Turner Ueda Valentini Vargas Vasquez Vega Villa Vitale Vogel Volkov
Wagner Walsh Ward Weiss White Wolf Wong Wright Wu Yadav Yamada Yang Young Zimmermann
"""

# Surnames built as their language builds them: (stems, endings).
_PATTERNS: tuple[tuple[str, str], ...] = (
    # Swedish / Norwegian nature names
    ("Lind Berg Ström Sjö Ek Holm Dahl Nord Sand Lund Björk Alm Gran Wall Fors Hag Ros "
     "Sten Löv Åker", "berg ström qvist gren dahl holm lund man sten vall blad"),
    # German
    ("Schwarz Weiß Klein Groß Hoch Neu Alt Stein Wald Rosen Linden Eichen Birken Kirch "
     "Mühl Hof Feld Brand Lichten Sonnen", "mann berg feld hof bach thal burg hauser "
     "meier stein"),
    # English place names
    ("Ash Black Brad Brook Burn Cal Clay Hart Holl Kings Lang Mid Nor Red Ross Stan "
     "Thorn West Whit Wal", "ford ley ton wood well field bury by worth more ham stead "
     "combe wick"),
    # Finnish
    ("Virta Laakso Niemi Mäki Salo Koski Lahti Järvi Korho Lehti Hämäläi Saari Ranta "
     "Kallio Aalto", "nen la"),
    # Japanese
    ("Yama Kawa Naka Mori Ishi Matsu Ike Kita Fuji Taka Hoshi Nishi Miya Shima Kuro "
     "Oka Hira Sugi", "moto da mura shita kawa yama hara saki no uchi guchi"),
    # Italian
    ("Ross Bianch Marin Ferr Lombard Gall Cont Mont Bell Fior Sant Grand Mar Vill Cald "
     "Pagan", "i etti elli ini ucci one"),
    # Polish
    ("Kowal Nowakow Wiśniew Zieliń Szyman Dąbrow Kozłow Jankow Lewandow Wojciechow Kamiń "
     "Kaczmar Piotrow Grabow Pawłow Michal", "ski ska"),
    # South Slavic patronymics
    ("Petr Mark Jovan Nikol Stojan Ilij Pavl Đorđ Milos Luk Stef Vuk Drag Bogdan",
     "ović ić"),
    # Nordic patronymics
    ("Eriks Lars Pers Ols Jens Nils Anders Hans Mikkel Sven Knut Gunnar Torsten Rasmus",
     "son sen"),
    # Russian
    ("Ivan Petr Smirn Kuznets Pop Sokol Lebed Kozl Novik Moroz Volk Orl Pavl Fedor",
     "ov ova"),
)
# Gaelic: a particle and a name
_GAELIC = ("Mc", "Mac", "O'"), ("Carthy Donnell Kenna Laughlin Gregor Intyre Millan Kay Neill "
                                 "Grath Mahon Leary Reilly Shea Connell Dowd")
# Dutch: a particle and a place
_DUTCH = ("van", "van den", "van der", "de"), "Berg Bosch Broek Heuvel Linden Meer Wal Veld Brink Dijk Hoek Vliet"



def _built() -> list[str]:
    names: list[str] = []
    for stems, endings in _PATTERNS:
        for stem, end in product(stems.split(), endings.split()):
            if stem.lower() != end:  # no "Hofhof"
                names.append(stem + end)
    particles, places = _DUTCH
    names += [f"{p} {n}" for p, n in product(particles, places.split())]
    prefixes, stems = _GAELIC
    names += [p + n for p, n in product(prefixes, stems.split())]
    return names


def _ranked(names: list[str], common: tuple[str, ...]) -> tuple[str, ...]:
    """Unique names not already common, in a fixed order that mixes the languages."""
    seen = set(common)
    out = []
    for n in names:
        if n not in seen:
            seen.add(n)
            out.append(n)
    return tuple(sorted(out, key=lambda n: hashlib.blake2b(n.encode(), digest_size=8).digest()))


TAIL_FIRST = _ranked(_MORE_FIRST.split(), FIRST_NAMES)
TAIL_LAST = _ranked(_MORE_LAST.split() + _built(), LAST_NAMES)
TAIL_FIRST_SHARE = 0.45  # of contacts: a first name from the tail
TAIL_LAST_SHARE = 0.6  # surnames vary more than first names


def _zipf(n: int) -> list[float]:
    return list(accumulate(1.0 / (rank + 8) for rank in range(n)))


class NamePicker:
    """Names for contacts: the common name the simulation drew, or one from the tail."""

    def __init__(self, seed: int) -> None:
        self._rand = random.Random(f"journeytui demo names {seed}").random
        self._first_cum = _zipf(len(TAIL_FIRST))
        self._last_cum = _zipf(len(TAIL_LAST))

    def __call__(self, first: str, last: str) -> tuple[str, str]:
        rand = self._rand
        if rand() < TAIL_FIRST_SHARE:
            cum = self._first_cum
            first = TAIL_FIRST[min(bisect_left(cum, rand() * cum[-1]), len(cum) - 1)]
        if rand() < TAIL_LAST_SHARE:
            cum = self._last_cum
            last = TAIL_LAST[min(bisect_left(cum, rand() * cum[-1]), len(cum) - 1)]
        return first, last
