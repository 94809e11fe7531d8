"""Write the demo workshop corpus in corpora/demo/ from the texts held below.

The demo is a fictional workshop written for tematik ("Strategiworkshop om erhvervsfremme,
Erhvervshus Midtjylland, 14. november 2026"). Every text is kept next to its gold theme so
that the input files and ``benchmarks/data/demo-gold.csv`` can never drift apart. Run

    python corpora/build_demo.py

to regenerate ``mentimeter-export.xlsx``, ``opsamlingsnotat.docx``, ``postkort.csv`` and
``benchmarks/data/demo-gold.csv``. Output is byte-for-byte reproducible: document properties and zip entry
timestamps are pinned, so regenerating leaves git clean unless a text changed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path

import docx
import openpyxl

DEMO_DIR = Path(__file__).resolve().parent / "demo"
# Gold labels live with the benchmarks: a file in the demo folder would be read as workshop input.
GOLD_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "demo-gold.csv"
WORKSHOP = "Strategiworkshop om erhvervsfremme, Erhvervshus Midtjylland, 14. november 2026"
FIXED_TIME = dt.datetime(2026, 11, 14, 16, 0, 0)

# Theme ids of the default taxonomy (the Danish Business Promotion Board strategy 2020-23).
ARB = "kvalificeret_arbejdskraft"
IVS = "ivaerksaetteri"
GRO = "groen_omstilling"
INN = "innovation"
DIG = "digitalisering"
INT = "internationalisering"
AND = "andet"
THEMES = (ARB, IVS, GRO, INN, DIG, INT, AND)

# --------------------------------------------------------------------------------------
# a) Mentimeter: three open questions, answers in the order they came in.
#    Repeats, a case-only variant, typos, one English answer, an empty cell, a leading
#    space and a line break are deliberate: real exports look like this.
# --------------------------------------------------------------------------------------
MENTIMETER: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Hvad er den vigtigste udfordring for virksomhederne i regionen de næste fem år?",
        [
            ("Mangel på arbejdskraft", ARB),
            ("Den grønne omstilling", GRO),
            ("At tiltrække kvalificeret arbejdskraft", ARB),
            ("Digitalisering", DIG),
            ("Rekruttering af faglærte", ARB),
            ("Mangel på arbejdskraft", ARB),
            ("Krav fra kunderne om CO2-regnskab", GRO),
            ("Der er for få smede og elektrikere, og det bremser væksten", ARB),
            ("Kompetencer", ARB),
            ("Cybersikkerhed", DIG),
            ("Infrastrukturen. Vi mangler stadig en ordentlig vejforbindelse mod nord", AND),
            ("Mangel på arbejdskræft", ARB),
            ("At have råd til den grønne omstilling som lille virksomhed", GRO),
            ("Fastholdelse af medarbejdere, når de store virksomheder betaler mere i løn", ARB),
            ("Hvordan bruger vi AI uden at miste overblikket?", DIG),
            ("Generationsskifte – mange ejere skal sælge deres virksomhed de næste år", IVS),
            ("Få de unge til at blive i regionen efter endt uddannelse", ARB),
            ("Høje energipriser og krav om at skifte til vedvarende energi", GRO),
            ("mangel på arbejdskraft", ARB),
            ("Manglende tid til at udvikle nye produkter", INN),
            ("At få flere borgere på kanten af arbejdsmarkedet i job", ARB),
            ("Grøn omstilling", GRO),
            ("Vi er afhængige af udenlandsk arbejdskraft, men de skal også kunne finde et sted at bo", ARB),
            ("Eksport til nye markeder", INT),
            ("Efteruddannelse af de medarbejdere vi allerede har", ARB),
            ("CSRD og ESG-rapportering rammer også underleverandørerne", GRO),
            ("digitalisring", DIG),
            ("Adgang til kapital for nye virksomheder", IVS),
            ("Demografien – der bliver færre i den arbejdsdygtige alder", ARB),
            ("Mangel på boliger", AND),
            ("Ingen søger vores lærepladser", ARB),
            ("Cirkulær økonomi – hvordan kommer man overhovedet i gang?", GRO),
            ("Samarbejdet med universiteterne er svært for små virksomheder", INN),
            ("Skaffe ingeniører", ARB),
            ("Mange SMV'er har ikke styr på deres data", DIG),
            ("Mangel på arbejdskraft", ARB),
            ("Bæredygtighed", GRO),
            ("Arbejdskraft!!", ARB),
            ("Automatisering i produktionen, så vi kan klare os med færre hænder", DIG),
            ("For få iværksættere i landdistrikterne", IVS),
            ("Sagsbehandlingstiden på byggetilladelser i kommunen", AND),
            ("Opkvalificering af medarbejdere, så de kan arbejde med ny teknologi", ARB),
            ("Grøn omstiling", GRO),
            ("Innovation", INN),
            ("For mange unge vælger gymnasiet frem for en erhvervsuddannelse", ARB),
            ("Usikkerhed om told og handelsbarrierer på eksportmarkederne", INT),
            ("Kunstig intelligens ændrer alt", DIG),
            ("Kvalificeret arbejdskraft", ARB),
            ("Affald og spild i produktionen", GRO),
            ("Busforbindelserne er elendige", AND),
            ("Startups har svært ved at skalere", IVS),
            ("For lidt forskning og udvikling i SMV'erne", INN),
            ("At følge med i den teknologiske udvikling", DIG),
            ("Elektrificering af transporten", GRO),
            ("Seniorerne forlader arbejdsmarkedet for tidligt", ARB),
            ("Klimakrav fra EU", GRO),
            ("Skiftende rammevilkår fra Christiansborg", AND),
            ("Kvalificeret arbejdskraft", ARB),
        ],
    ),
    (
        "Hvad skal erhvervsfremmesystemet gøre mere af?",
        [
            ("Samarbejde med erhvervsskolerne", ARB),
            ("Konkret hjælp til CO2-beregning", GRO),
            ("Mentorordninger for iværksættere", IVS),
            ("Matche ledige med virksomhederne", ARB),
            ("Hjælp til cybersikkerhed for de små", DIG),
            ("Bygge bro mellem forskning og virksomheder", INN),
            ("Mangel på arbejdskraft", ARB),
            ("Sparring om bæredygtige forretningsmodeller", GRO),
            ("Færre konsulenter, mere handling", AND),
            ("Hjælpe med at rekruttere udenlandsk arbejdskraft", ARB),
            ("Eksportfremstød sammen med Trade Council", INT),
            ("Konkrete forløb om AI for SMV'er", DIG),
            ("Flere praktikpladser", ARB),
            (" Grøn omstilling", GRO),
            ("Mere støtte til iværksætterne de første tre år", IVS),
            ("Innovationsprojekter sammen med GTS'erne", INN),
            ("Vise de unge, hvilke job der findes lokalt", ARB),
            ("Samle virksomheder i netværk om cirkulær økonomi", GRO),
            ("Digitalisering", DIG),
            ("Gøre det enklere at finde den rigtige indgang", AND),
            ("Kompetense udvikling", ARB),
            ("Hjælp til at søge grønne puljer", GRO),
            ("Attract and keep international talent", ARB),
            ("Vise eksempler på automatisering, der virker i praksis", DIG),
            ("Få jobcentrene og erhvervshuset til at tale sammen", ARB),
            ("Innovationsvouchers", INN),
            ("Hjælpe flere SMV'er i gang med at eksportere", INT),
            ("Energitjek for små virksomheder", GRO),
            ("Hjælp til ejerskifte og generationsskifte", IVS),
            ("Hjælpe virksomhederne med at tage socialt ansvar og ansætte folk med handicap", ARB),
            ("Robotter", DIG),
            ("Tværgående samarbejde om produktudvikling", INN),
            ("Kommunikere bedre, hvad I egentlig tilbyder", AND),
            ("Grønne kompetencer", GRO),
            ("Brobygning mellem folkeskole og virksomheder", ARB),
            ("Flere SMV:Digital-forløb", DIG),
            ("Iværksætteri", IVS),
            ("Grøn omstilling", GRO),
            ("Test- og demonstrationsfaciliteter", INN),
            ("Efteruddannelse i samarbejde med VEU-centrene", ARB),
            ("Internationale partnerskaber", INT),
            ("Digitale kompetencer i ledelsen", DIG),
            ("Lytte til virksomhederne", AND),
            ("Symbiose mellem virksomheder, så affald bliver til råvarer", GRO),
            ("opkvalifisering", ARB),
            ("Iværksætterforløb på erhvervsskolerne", IVS),
            ("Hjælp til e-handel og webshops", DIG),
            ("Inovation", INN),
            ("Turisme og kultur i yderområderne", AND),
            ("Flere lærepladser\nog bedre vejledning i folkeskolen", ARB),
            ("", AND),  # an empty cell: the secretariat blanked out an answer naming a person
        ],
    ),
    (
        "Nævn ét konkret initiativ, du gerne vil se",
        [
            ("En fælles rekrutteringsportal for regionens virksomheder", ARB),
            ("Gratis CO2-regnskab for alle virksomheder under 50 ansatte", GRO),
            ("AI-bootcamp for SMV-ledere", DIG),
            ("Iværksætterhus i hver kommune", IVS),
            ("Jobmesse for udenlandske studerende på universitetet", ARB),
            ("God dag, tak for kaffen :)", AND),
            ("Virksomhedspraktik for alle 8. klasser", ARB),
            ("Fælles solcelleanlæg på erhvervsområderne", GRO),
            ("Regional innovationsfond", INN),
            ("Et lokalt campus for erhvervsuddannelserne med moderne værksteder", ARB),
            ("Et grønt iværksætterhus for cleantech-startups", IVS),
            ("Gratis cybertjek", DIG),
            ("Fælles messestand på Hannover Messe", INT),
            ("Et talentspor, hvor virksomheden betaler uddannelsen mod at den nyuddannede bliver et par år", ARB),
            ("Pulje til grøn omstilling i SMV'er", GRO),
            ("Ny motorvej", AND),
            ("Innovationsforløb, hvor studerende løser virksomhedernes problemer", INN),
            ("Sprogskole kombineret med praktik for flygtninge", ARB),
            ("Et automationslab, hvor man kan prøve robotter af", DIG),
            ("Startup-weekend for unge", IVS),
            ("Cirkulært byggeri med genbrug af materialer", GRO),
            ("Lærlingeambassadører, der besøger skolerne", ARB),
            ("Bedre kollektiv trafik til erhvervsområderne", AND),
            ("Digital ambassadør i hver kommune", DIG),
            ("Seniorordning, så erfarne kan arbejde lidt længere", ARB),
            ("Biogas- og PtX-klynge", GRO),
            ("Fælles testcenter for fødevareteknologi", INN),
            ("Eksportnetværk for fødevarevirksomheder", INT),
            ("Grøn omstilling", GRO),
            ("Mentorordning for nyansatte udlændinge og deres familier", ARB),
            ("Risikovillig kapital til nystartede", IVS),
            ("Fælles dataplatform for regionens produktionsvirksomheder", DIG),
            ("Flere kulturtilbud, så folk har lyst til at bo her", AND),
            ("Delebilsordning for virksomhederne i industrikvarteret", GRO),
            ("Fleksjobnetværk for virksomheder", ARB),
            ("Kortlægning af overskudsvarme i industrien", GRO),
            ("Ved ikke", AND),
            ("Åbent innovationslaboratorium", INN),
            ("En pulje til løntilskud for ledige akademikere i SMV'er", ARB),
            ("Kortere sagsbehandling på byggesager", AND),
            ("Grønne krav i kommunernes udbud", GRO),
            ("Mangel på arbejdskraft", ARB),
        ],
    ),
]

# --------------------------------------------------------------------------------------
# b) Opsamlingsnotat: (Word style, text, theme). Headings carry the theme of their session.
# --------------------------------------------------------------------------------------
T, P, H1, H2, B = "Title", "Normal", "Heading 1", "Heading 2", "List Bullet"
NOTE: list[tuple[str, str, str]] = [
    (T, "Opsamling på strategiworkshop om erhvervsfremme", AND),
    (P, "Dette notat samler op på drøftelserne ved strategiworkshoppen om erhvervsfremme, som Erhvervshus "
        "Midtjylland afholdt den 14. november 2026 i Herning. Notatet er udarbejdet af sekretariatet og er "
        "tænkt som input til arbejdet med den kommende regionale erhvervsfremmestrategi.", AND),
    (H1, "1. Indledning", AND),
    (P, "Workshoppen samlede 168 deltagere fra virksomheder, kommuner, uddannelsesinstitutioner og "
        "erhvervsorganisationer. Formålet var at få deltagernes bud på, hvor indsatsen skal ligge i de "
        "kommende år, og hvad erhvervsfremmesystemet kan gøre bedre.", AND),
    (P, "Dagen blev indledt med en Mentimeter-runde i plenum, hvorefter deltagerne fordelte sig på fem "
        "temaborde. Hvert bord havde en facilitator og en referent fra erhvervshuset. Deltagerne kunne "
        "desuden aflevere et postkort med deres vigtigste budskab.", AND),
    (H1, "2. Temadrøftelser", AND),
    (P, "Nedenfor gengives hovedpointerne fra de fem temaborde. Pointerne er ikke prioriteret og udtrykker "
        "ikke nødvendigvis enighed blandt deltagerne.", AND),

    (H2, "2.1 Tema 1: Kvalificeret arbejdskraft", ARB),
    (P, "Adgangen til kvalificeret arbejdskraft var det emne, der fyldte mest på dagen – både ved temabordet "
        "og i Mentimeter-runden. Flere virksomheder fortalte, at de har måttet sige nej til ordrer, fordi de "
        "ikke kan skaffe faglærte medarbejdere.", ARB),
    (P, "Deltagerne understregede, at udfordringen ikke kun handler om at tiltrække nye folk, men også om at "
        "fastholde og opkvalificere dem, virksomhederne allerede har. Der var stor interesse for modeller, "
        "hvor efteruddannelse kan foregå i arbejdstiden, uden at produktionen går i stå.", ARB),
    (P, "Flere pegede desuden på, at der fortsat er en gruppe borgere på kanten af arbejdsmarkedet, som med "
        "den rette støtte kunne komme i job. Her blev der efterlyst et tættere samarbejde mellem jobcentrene "
        "og erhvervshuset.", ARB),
    (P, "Ved bordet blev følgende konkrete forslag fremhævet:", AND),
    (B, "En fælles kampagne, der viser unge og deres forældre mulighederne i en erhvervsuddannelse", ARB),
    (B, "Flere lærepladser, blandt andet gennem delte lærlingeforløb mellem små virksomheder", ARB),
    (B, "Hjælp til at rekruttere og tage imod udenlandske medarbejdere og deres familier", ARB),
    (B, "Fleksible efteruddannelsesforløb i samarbejde med VEU-centrene", ARB),
    (B, "Et tættere samspil mellem jobcentre og virksomheder om ledige på kanten af arbejdsmarkedet", ARB),

    (H2, "2.2 Tema 2: Grøn omstilling og cirkulær økonomi", GRO),
    (P, "Ved bordet om grøn omstilling var der bred enighed om, at kravene fra kunder, banker og lovgivning "
        "kommer hurtigere end ventet. Især underleverandører til større virksomheder oplever, at de skal "
        "kunne dokumentere deres CO2-aftryk for at beholde kunderne.", GRO),
    # Only on-theme through its section: read alone it could be about anything.
    (P, "Mange mindre virksomheder ved ikke, hvor de skal begynde. Der blev efterlyst enkle værktøjer og "
        "personlig sparring frem for flere rapporter og vejledninger.", GRO),
    (P, "Deltagerne så også forretningsmuligheder i cirkulær økonomi, fx ved at genanvende restprodukter fra "
        "produktionen eller sælge reparation og service i stedet for nye produkter.", GRO),
    (B, "Et gratis klimatjek med hjælp til at lave et første CO2-regnskab", GRO),
    (B, "Netværk, hvor virksomheder kan udveksle restprodukter og overskudsvarme", GRO),
    (B, "Hjælp til at søge grønne puljer og støtteordninger", GRO),
    (B, "Fælles energiløsninger på erhvervsområderne, fx solceller og varmepumper", GRO),

    (H2, "2.3 Tema 3: Digitalisering og automatisering", DIG),
    (P, "Drøftelsen om digitalisering tog udgangspunkt i den hastige udvikling inden for kunstig intelligens. "
        "Deltagerne oplevede, at mange SMV'er er nysgerrige, men usikre på, hvordan de kommer i gang, og hvad "
        "det kræver af data og systemer.", DIG),
    (P, "Flere produktionsvirksomheder fortalte, at automatisering og robotter er en del af svaret på manglen "
        "på hænder. Samtidig blev det understreget, at ny teknologi kræver medarbejdere, der kan betjene og "
        "vedligeholde den.", DIG),
    (P, "Cybersikkerhed blev nævnt af næsten alle ved bordet. Flere havde selv været udsat for forsøg på "
        "hackerangreb eller svindel via mail og efterspurgte konkret hjælp til at beskytte sig.", DIG),
    (B, "Korte, praktiske forløb om brug af AI i administration og salg", DIG),
    (B, "Et gratis cybertjek for mindre virksomheder", DIG),
    (B, "Besøg hos virksomheder, der allerede har automatiseret dele af produktionen", DIG),

    (H2, "2.4 Tema 4: Innovation og samarbejde med videninstitutioner", INN),
    (P, "Ved innovationsbordet var pointen, at mange gode idéer aldrig bliver til noget, fordi virksomhederne "
        "mangler tid og folk til udvikling. Især de mindre virksomheder har svært ved at finde vej ind til "
        "universiteterne og de godkendte teknologiske serviceinstitutter.", INN),
    (P, "Deltagerne efterlyste flere uforpligtende mødesteder mellem forskere og virksomheder og enkle "
        "ordninger, hvor en virksomhed kan købe et mindre udviklingsprojekt uden en lang ansøgningsproces.", INN),
    # An internationalisation point raised at the innovation table.
    (P, "Flere påpegede, at nye produkter ofte først for alvor giver værdi, når de kan sælges uden for "
        "Danmark. Det blev derfor foreslået at koble indsatsen tættere sammen med eksportrådgivning og "
        "deltagelse i internationale messer.", INT),
    (B, "Innovationsvouchers, der kan bruges hos universiteter og GTS-institutter", INN),
    (B, "Studenterprojekter, hvor studerende løser konkrete udviklingsopgaver for virksomheder", INN),
    (B, "Adgang til test- og demonstrationsfaciliteter", INN),
    (B, "Fælles eksportfremstød for virksomheder med nye produkter", INT),

    (H2, "2.5 Tema 5: Iværksætteri og ejerskifte", IVS),
    (P, "Bordet om iværksætteri havde deltagelse af både nye iværksættere og erfarne rådgivere. Iværksætterne "
        "fremhævede, at det svære ikke er at starte, men at komme fra de første kunder til en stabil "
        "forretning med ansatte.", IVS),
    (P, "Adgangen til kapital blev nævnt som en barriere, særligt for virksomheder uden for de største byer. "
        "Flere oplevede, at bankerne er tilbageholdende over for nystartede virksomheder.", IVS),
    (P, "Et særskilt emne var ejerskifte. En stor gruppe ejerledere nærmer sig pensionsalderen, og deltagerne "
        "var bekymrede for, at sunde virksomheder lukker, fordi der ikke findes en køber eller arvtager.", IVS),
    (B, "Mentorordninger, der matcher iværksættere med erfarne erhvervsfolk", IVS),
    (B, "En regional fond med risikovillig kapital til nystartede virksomheder", IVS),
    (B, "Tidlig rådgivning om ejerskifte til ejerledere over 55 år", IVS),
    (B, "Iværksætterforløb på erhvervsskoler og gymnasier", IVS),

    (H2, "2.6 Øvrige emner", AND),
    (P, "Ved flere borde blev infrastrukturen nævnt, særligt manglende busforbindelser til erhvervsområderne "
        "og en vejforbindelse mod nord, som mange har ventet på i årevis.", AND),
    # Housing came up as a barrier to recruitment, but the point itself is housing: off-theme.
    (P, "Flere kommuner gjorde opmærksom på, at der mangler lejeboliger i de mindre byer. Boligområdet ligger "
        "uden for erhvervsfremmesystemets opgaver, men er noteret til den videre dialog med kommunerne.", AND),

    (H1, "3. Næste skridt", AND),
    (P, "Sekretariatet bearbejder input fra workshoppen og fremlægger et udkast til handlingsplan for "
        "bestyrelsen i februar 2027. Udkastet sendes forinden i høring hos kommunerne og "
        "erhvervsorganisationerne.", AND),
    (P, "Flere deltagere bad om, at der bliver fulgt op på dagen, så de kan se, hvad deres input har ført til. "
        "Konkret vil sekretariatet:", AND),
    (B, "Udarbejde et udkast til handlingsplan med udgangspunkt i de fem temaer", AND),
    (B, "Invitere udvalgte deltagere til en opfølgende arbejdsgruppe om rekruttering og fastholdelse", ARB),
    (B, "Afholde et fyraftensmøde om AI for SMV'er i foråret", DIG),
    (B, "Offentliggøre resultaterne af Mentimeter-runden på erhvervshusets hjemmeside", AND),
    (P, "Spørgsmål til notatet kan rettes til sekretariatet i Erhvervshus Midtjylland.", AND),
]

# --------------------------------------------------------------------------------------
# c) Postcards typed in by the secretariat: (id, kommune, svar, theme). Kommune may be blank.
# --------------------------------------------------------------------------------------
POSTCARDS: list[tuple[str, str, str, str]] = [
    ("P01", "Herning", "Vi er en lille smedevirksomhed med 12 ansatte. Vi har haft et stillingsopslag ude i et "
        "halvt år uden en eneste kvalificeret ansøger. Hjælp os med at finde folk!", ARB),
    ("P02", "Silkeborg", "Jeg synes I skal tage fat i de unge tidligt. Min søn anede ikke hvad en industritekniker "
        "var, før han kom i praktik. Mere samarbejde med folkeskolerne tak.", ARB),
    ("P03", "Viborg", "Det grønne skal være nemt. Vi vil gerne, men vi har ikke tid til at sætte os ind i alle de "
        "regler og krav. Giv os én person vi kan ringe til.", GRO),
    ("P04", "Randers", "Som landmand ser jeg store muligheder i biogas og i at udnytte restprodukter bedre. Men det "
        "kræver at nogen tager fat og samler os.", GRO),
    ("P05", "Holstebro", "AI!! Vi aner ikke hvor vi skal starte og er bange for at blive kørt over af dem der er "
        "hurtigere. Et kursus for ledere ville være rigtig godt.", DIG),
    ("P06", "Skive", "Mine medarbejdere er dygtige til deres fag men ikke til IT. Vi bruger stadig papir til mange "
        "ting. Vi har brug for hjælp til at tage de første skridt.", DIG),
    ("P07", "Ringkøbing-Skjern", "Husk os der bor langt fra Aarhus! Erhvervshuset skal komme ud til os og ikke "
        "omvendt.", AND),
    ("P08", "Horsens", "Jeg startede min virksomhed for to år siden og har haft stor glæde af en mentor gennem "
        "Erhvervshuset. Den slags ordninger skal der være flere af.", IVS),
    ("P09", "Ikast-Brande", "Vi har 40 % udenlandske medarbejdere. De gør et fantastisk stykke arbejde, men det er "
        "svært for deres familier at falde til. Sprogundervisning og hjælp til ægtefællerne ville gøre en stor "
        "forskel.", ARB),
    ("P10", "Hedensted", "Vi eksporterer til Tyskland og Sverige og vil gerne videre til USA, men vi mangler viden "
        "om regler og certificeringer derovre. Et eksportnetværk ville være godt.", INT),
    ("P11", "Aarhus", "Lav færre workshops og mere konkret hjælp. Det var en hyggelig dag, men hvad sker der nu?", AND),
    ("P12", "Skanderborg", "Vores største udfordring er at finde tid til at udvikle nye produkter ved siden af "
        "driften. Et samarbejde med studerende fra universitetet kunne være en løsning.", INN),
    ("P13", "Struer", "Der er mange ældre ejere her i området, som ikke har en plan for hvem der skal overtage. Det "
        "er en tikkende bombe for lokalsamfundet.", IVS),
    # Labour and housing in one breath; labelled by the shortage of staff the card opens with.
    ("P14", "Norddjurs", "Vi mangler både arbejdskraft og boliger. Vi har fået tre nye medarbejdere fra Polen, men de "
        "bor i campingvogne fordi der ikke er noget at leje.", ARB),
    ("P15", "Favrskov", "Vi har brug for et sted hvor vi kan teste vores nye maskiner sammen med andre. Et fælles "
        "testcenter ville hjælpe os meget.", INN),
    # Tourism is not one of the six themes, although the card also mentions keeping staff.
    ("P16", "Syddjurs", "Turismen er vigtig her på Djursland, og den bliver glemt i erhvervsfremmen. Sæsonen er "
        "kort, og vi kan ikke holde på folk om vinteren.", AND),
    ("P17", "Lemvig", "Vi vil gerne være CO2-neutrale inden 2030, men vi ved ikke hvad det vil koste. Gratis "
        "rådgivning om energibesparelser ville være en god start.", GRO),
    ("P18", "Odder", "Jeg er iværksætter og oplever at bankerne ikke vil låne til en lille virksomhed som min. Der "
        "mangler kapital til de små.", IVS),
    ("P19", "Herning", "Mere fokus på de ældre medarbejdere. Vi har mange dygtige folk over 60, som gerne vil "
        "blive, hvis de kan gå lidt ned i tid.", ARB),
    ("P20", "Viborg", "Vores kunder kræver dokumentation for bæredygtighed, og vi drukner i skemaer. Kan man lave "
        "en fælles skabelon for hele regionen?", GRO),
    ("P21", "Randers", "Vi prøvede at komme ind på det kinesiske marked for et par år siden og brændte nallerne. "
        "Der var ingen at spørge om hjælp.", INT),
    ("P22", "Silkeborg", "Flere fleksjob og praktikpladser til unge med særlige behov. Virksomhederne vil gerne "
        "tage et socialt ansvar, hvis de får lidt hjælp med papirarbejdet.", ARB),
    ("P23", "", "Tak for en god dag og et godt initiativ. Maden var også god :-)", AND),
    ("P24", "Holstebro", "Vi har investeret i en svejserobot, og det har gjort os meget mere konkurrencedygtige. "
        "Andre virksomheder skal have mulighed for at se den i drift.", DIG),
    ("P25", "Horsens", "Kære Erhvervshus\nI skal hjælpe os små virksomheder med at få styr på it-sikkerheden. Vi "
        "blev ramt af ransomware sidste år og var lukket ned i en uge.", DIG),
    ("P26", "Herning", "Uddannelse; uddannelse; uddannelse. Uden dygtige folk ingen vækst.", ARB),
]


def normalise(text: str) -> str:
    """The text as ingestion stores it: NFC, whitespace collapsed, stripped."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def pin_zip(data: bytes, path: Path) -> None:
    """Write an Office zip with fixed entry timestamps so regeneration is byte-identical.

    openpyxl stamps the save time into docProps/core.xml whatever the workbook says, so that
    field is pinned here too.
    """
    modified = rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)"
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(modified, rb"\g<1>" + stamp + rb"\g<2>", content)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, content)


def write_mentimeter(path: Path) -> None:
    """Mentimeter's per-session Excel layout: a Presentation sheet and one sheet per session."""
    book = openpyxl.Workbook()
    overview = book.active
    overview.title = "Presentation"
    for row in (("Presentation", WORKSHOP), ("Date", "2026-11-14"), ("Participants", 168)):
        overview.append(row)
    session = book.create_sheet("Session 1")
    session.append(("Session 1", "2026-11-14 09:45"))
    for number, (question, answers) in enumerate(MENTIMETER, start=1):
        session.append(())
        session.append((f"Question {number}",))
        session.append(("Type", "open"))
        session.append(("Question", question))
        session.append(("Responses", len(answers)))
        session.append(())
        session.append(("Answer",))
        for answer, _ in answers:
            session.append((answer or None,))
    for sheet in book.worksheets:
        sheet.column_dimensions["A"].width = 13
        sheet.column_dimensions["B"].width = 13
    book.properties.creator = "Mentimeter"
    book.properties.created = book.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    book.save(buffer)
    pin_zip(buffer.getvalue(), path)


def write_note(path: Path) -> None:
    document = docx.Document()
    for style, text, _ in NOTE:
        document.add_paragraph(text, style=style)
    props = document.core_properties
    props.title = "Opsamling på strategiworkshop om erhvervsfremme"
    props.author = props.last_modified_by = "Sekretariatet, Erhvervshus Midtjylland"
    props.created = props.modified = FIXED_TIME
    props.revision = 1
    props.comments = ""
    buffer = io.BytesIO()
    document.save(buffer)
    pin_zip(buffer.getvalue(), path)


def write_postcards(path: Path) -> None:
    """Semicolon-separated cp1252 with CRLF: what Danish Excel saves as 'CSV (semikolonsepareret)'."""
    with path.open("w", encoding="cp1252", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(("id", "kommune", "svar"))
        writer.writerows((card_id, kommune, text) for card_id, kommune, text, _ in POSTCARDS)


def gold_rows() -> list[tuple[str, str]]:
    """One (text, theme) row per distinct normalised text, in corpus order; labels must agree."""
    labelled = [*(pair for _, answers in MENTIMETER for pair in answers),
                *((text, theme) for _, text, theme in NOTE),
                *((text, theme) for _, _, text, theme in POSTCARDS)]
    gold: dict[str, str] = {}
    for text, theme in labelled:
        assert theme in THEMES, theme
        key = normalise(text)
        if not key:
            continue
        if gold.setdefault(key, theme) != theme:
            raise ValueError(f"conflicting gold labels for {key!r}: {gold[key]} and {theme}")
    return list(gold.items())


def write_gold(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("text", "theme"))
        writer.writerows(gold_rows())


def main() -> None:
    DEMO_DIR.mkdir(exist_ok=True)
    write_mentimeter(DEMO_DIR / "mentimeter-export.xlsx")
    write_note(DEMO_DIR / "opsamlingsnotat.docx")
    write_postcards(DEMO_DIR / "postkort.csv")
    write_gold(GOLD_PATH)
    answers = [theme for _, pairs in MENTIMETER for text, theme in pairs if text]
    print(f"mentimeter: {len(answers)} answers (+ empty cells), themes {dict(Counter(answers).most_common())}")
    print(f"note: {len(NOTE)} passages, themes {dict(Counter(t for _, _, t in NOTE).most_common())}")
    print(f"postcards: {len(POSTCARDS)} rows, themes {dict(Counter(t for *_, t in POSTCARDS).most_common())}")
    print(f"gold: {len(gold_rows())} distinct texts")


if __name__ == "__main__":
    main()
